"""接待设置 in the console reaches the appliance: HQ opens the project's reception
settings (the rules page's defaults shown beside each field), a wrong pair of office
hours is refused on the form, the saved change goes down as `reception.settings` and
the edge's `reception_settings` follows (ADR 0051); the office's sales manager is told on
the phone that HQ replaced their settings."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.console import expect, login, menu, shot
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e


def edge_rules(stack: Stack) -> dict[str, Any] | None:
    with sqlite3.connect(stack.edge.workdir / "edge.db") as db:
        row = db.execute("SELECT rules FROM reception_settings WHERE project_id = ?",
                         (stack.site.project_id,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def test_hq_changes_the_reception_settings_and_the_appliance_applies_them(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    page = login(new_page, stack, "admin")
    menu(page).filter(has_text="接待设置").click()
    expect(page.get_by_text("尚未修改，使用默认值")).to_be_visible()
    expect(page.get_by_text("默认：2 天")).to_be_visible()
    expect(page.get_by_text("默认：按上岗顺序轮流")).to_be_visible()

    page.get_by_text("当天接待新客最少者优先").click()
    claim = page.get_by_role("spinbutton", name="“来过但忘了顾问”认领期")
    claim.fill("3")
    claim.blur()
    page.locator(".el-checkbox").filter(has_text="全天").click()
    page.get_by_role("combobox", name="下班时间").click(force=True)
    page.get_by_role("option", name="08:00", exact=True).click()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("下班时间须晚于上班时间")).to_be_visible()

    page.get_by_role("combobox", name="下班时间").click(force=True)
    page.get_by_role("option", name="18:00", exact=True).click()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("接待设置已保存")).to_be_visible()
    expect(page.locator("[data-test=last-change]")).to_contain_text("总部控制台")
    wait_for(lambda: (edge_rules(stack) or {}).get("claim_days") == 3, timeout=45,
             what="the appliance's reception settings changed by the console")
    applied = edge_rules(stack)
    assert applied is not None
    assert (applied["order_mode"], applied["work_start"], applied["work_end"]) == (
        "fewest_new", "09:00:00", "18:00:00")
    page.reload()
    expect(page.locator("[data-test=last-change]")).to_contain_text("总部管理员")
    shot(page, "console-reception-settings")

