"""The consultant's 房源 tab in the PWA: the project's released units by floor, straight
from the cloud, repainting by itself when a manager holds a unit; a 预留 request from the
phone reaches the manager's queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.cloud.inventory_world import sheet, tower
from tests.e2e.conftest import Stack
from tests.e2e.console import api, make_user
from tests.e2e.test_pwa import log_in

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_consultant_sees_released_units_live_and_asks_for_a_hold(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, "sm.pwa", roles=["sales_manager"])
    project = stack.site.project_id
    imported = api(stack, "sm.pwa", "POST", f"/inventory/projects/{project}/import",
                   files={"file": ("房源.xlsx", sheet(tower("5号楼", floors=2, per_floor=2)),
                                   XLSX)})
    assert imported.status_code == 201, imported.text
    grid = api(stack, "sm.pwa", "GET", f"/inventory/projects/{project}/grid").json()
    ids = {c["room"]: c["id"] for b in grid["buildings"] for f in b["floors"]
           for c in f["units"]}
    released = api(stack, "sm.pwa", "POST", f"/inventory/projects/{project}/batches",
                   json={"name": "首开", "kind": "first_opening",
                         "unit_ids": [ids["101"], ids["102"]]})
    assert released.status_code == 201, released.text

    page: Page = new_page("phone")
    log_in(page, stack)
    page.get_by_role("tab", name="房源").click()
    board = page.get_by_role("region", name="5号楼 销控表")
    expect(board.get_by_role("button", name="5号楼 101 待售")).to_be_visible()
    expect(board.get_by_role("button")).to_have_count(2)  # 201 and 202 are not released

    held = api(stack, "sm.pwa", "POST", f"/inventory/units/{ids['102']}/transitions",
               json={"action": "control", "reason": "开发商保留"})
    assert held.status_code == 200, held.text
    expect(board.get_by_role("button", name="5号楼 102 销控")).to_be_visible()

    board.get_by_role("button", name="5号楼 101 待售").click()
    page.get_by_label("预留原因").fill("客户周末来签认购")
    page.get_by_role("button", name="申请预留").click()
    expect(page.get_by_text("已提交预留申请")).to_be_visible()
    holds = api(stack, "sm.pwa", "GET", f"/inventory/projects/{project}/holds",
                params={"status": "pending"}).json()
    assert [(h["unit_id"], h["reason"], h["requested_by"]) for h in holds] == [
        (ids["101"], "客户周末来签认购", stack.user_ids["wanglei"])]
