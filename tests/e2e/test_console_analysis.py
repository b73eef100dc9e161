"""销售分析 in the console: walk-ins registered at the kiosk reach the sales manager's
figures (到访组数, first visits, the customer funnel) by consultant; a consultant opening
the same page sees only their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.console import choose, expect, login, make_user, menu, register_walk_ins, shot

pytestmark = pytest.mark.e2e

WALK_INS = [
    ("13811112222", "周敏", "wanglei", "三房"),
    ("13922223333", "吴昊", "wanglei", None),
    ("15033334444", "郑丽", "lina", "改善型四房"),
]


def test_the_manager_sees_the_figures_and_a_consultant_their_own(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    register_walk_ins(stack, WALK_INS)
    make_user(stack, "sm.analysis", roles=["sales_manager"])
    page = login(new_page, stack, "sm.analysis")
    menu(page).filter(has_text="销售分析").click()
    visits = page.locator("[data-figure=visits] .count")
    expect(visits).to_have_text("3")
    expect(page.locator("[data-figure=stored] .count")).to_have_text("3 → 0 → 0")
    choose(page, "分组维度", "置业顾问")
    page.get_by_role("button", name="查询").click()
    table = page.locator(".figures")
    expect(table.get_by_role("row").filter(has_text="王磊")).to_contain_text("2")
    expect(table.get_by_role("row").filter(has_text="李娜")).to_contain_text("1")
    shot(page, "console-sales-analysis")

    mine = login(new_page, stack, "lina")
    menu(mine).filter(has_text="销售分析").click()
    expect(mine.locator("[data-figure=visits] .count")).to_have_text("1")
