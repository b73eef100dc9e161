"""The 销控表 in two browsers: a sales manager watches the grid while a second manager
puts a unit under 销控 in another browser; the first grid repaints by itself. Then the
XLSX import page shows a file's row errors and imports nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.cloud.inventory_world import sheet, tower
from tests.e2e.conftest import Stack
from tests.e2e.console import api, expect, login, make_user, menu

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _grid(page: Any) -> Any:
    menu(page).filter(has_text="销控表").click()
    expect(page.get_by_role("grid", name="8号楼 销控表")).to_be_visible()
    return page.get_by_role("grid", name="8号楼 销控表")


def test_a_second_manager_holds_a_unit_and_the_first_grid_follows(
    stack: Stack, new_page: Callable[..., Any], tmp_path: Any,
) -> None:
    for username in ("sm.watch", "sm.act"):
        make_user(stack, username, roles=["sales_manager"])
    project = stack.site.project_id
    imported = api(stack, "sm.watch", "POST", f"/inventory/projects/{project}/import",
                   files={"file": ("房源.xlsx", sheet(tower("8号楼", floors=3, per_floor=2)),
                                   XLSX)})
    assert imported.status_code == 201, imported.text
    grid = api(stack, "sm.watch", "GET", f"/inventory/projects/{project}/grid").json()
    ids = {c["room"]: c["id"] for b in grid["buildings"] for f in b["floors"]
           for c in f["units"]}
    released = api(stack, "sm.watch", "POST", f"/inventory/projects/{project}/batches",
                   json={"name": "首开", "kind": "first_opening",
                         "unit_ids": [ids[r] for r in ("101", "102", "201", "202")]})
    assert released.status_code == 201, released.text

    watcher = login(new_page, stack, "sm.watch")
    watched = _grid(watcher)
    expect(watched.locator(f"[data-unit='{ids['101']}']")).to_have_attribute(
        "data-state", "available")
    expect(watched.locator(f"[data-unit='{ids['301']}']")).to_have_attribute(
        "data-state", "unreleased")
    expect(watcher.locator("[data-state=available].legend-item")).to_contain_text("待售 4")

    actor = login(new_page, stack, "sm.act")
    _grid(actor).locator(f"[data-unit='{ids['101']}']").click()
    drawer = actor.get_by_role("dialog", name="8号楼 101")
    drawer.get_by_label("原因").fill("开发商保留")
    drawer.get_by_role("button", name="销控", exact=True).click()
    expect(actor.get_by_text("已销控")).to_be_visible()

    # No reload: the watcher's poll brings the change within seconds.
    expect(watched.locator(f"[data-unit='{ids['101']}']")).to_have_attribute(
        "data-state", "controlled")
    expect(watcher.locator("[data-state=controlled].legend-item")).to_contain_text("销控 1")
    log = api(stack, "sm.watch", "GET", f"/inventory/projects/{project}/log",
              params={"unit_id": ids["101"]}).json()
    assert (log[0]["action"], log[0]["actor_name"], log[0]["reason"]) == (
        "control", "测试sm.act", "开发商保留")

    # A consultant's grid holds the released units only.
    seen = api(stack, "wanglei", "GET", f"/inventory/projects/{project}/grid").json()
    rooms = sorted(c["room"] for b in seen["buildings"] for f in b["floors"]
                   for c in f["units"])
    assert rooms == ["101", "102", "201", "202"]

    # The import page lists a bad file's rows and imports nothing.
    bad = tmp_path / "错误房源.xlsx"
    bad.write_bytes(sheet([["9号楼", "一", "101", "两室", 80, 1000000, 900000],
                           ["9号楼", 1, "102", "两室", 80, 1000000, 1100000]]))
    menu(watcher).filter(has_text="房源导入").click()
    watcher.locator("input[type=file]").set_input_files(str(bad))
    watcher.get_by_role("button", name="导入").click()
    expect(watcher.get_by_text("导入文件有错误，未导入任何房源")).to_be_visible()
    expect(watcher.locator(".errors")).to_contain_text("楼层须为")
    expect(watcher.locator(".errors")).to_contain_text("底价不能高于表价")
    after = api(stack, "sm.watch", "GET", f"/inventory/projects/{project}/grid").json()
    assert [b["name"] for b in after["buildings"]] == ["8号楼"]
