"""销售分析 on the phone (ADR 0045): walk-ins registered at the kiosk reach the cloud, and the
sales manager's phone shows the office's figures by consultant while a consultant's
我的业绩 shows only their own. The picture goes to docs/manual/pwa.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Stack, screenshot
from tests.e2e.console import make_user, register_walk_ins
from tests.e2e.test_pwa import settled
from tests.e2e.test_pwa_reception import sign_in

pytestmark = pytest.mark.e2e

MANAGER = "sm.figures"
WALK_INS = [
    ("13811115501", "周敏", "wanglei", "三房"),
    ("13922225502", "吴昊", "wanglei", None),
    ("15033335503", "郑丽", "lina", "改善型四房"),
]


def visits(page: Page) -> Any:
    """The 到访组数 tile's number."""
    return page.get_by_role("region", name="销售指标").locator(".tile").filter(
        has_text="到访组数").locator("strong")


def test_the_manager_reads_the_offices_figures_and_a_consultant_their_own(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, MANAGER, roles=["sales_manager"])
    register_walk_ins(stack, WALK_INS)

    boss: Page = new_page("phone")
    sign_in(boss, stack, MANAGER)
    boss.get_by_role("link", name="销售分析").click()
    expect(visits(boss)).to_have_text("3")
    groups = boss.get_by_role("region", name="分组")
    expect(groups.locator("article").filter(has_text="王磊")).to_contain_text("到访 2 组")
    expect(groups.locator("article").filter(has_text="李娜")).to_contain_text("到访 1 组")
    settled(boss)
    screenshot(boss, "pwa-analysis")

    mine: Page = new_page("phone")
    sign_in(mine, stack, "lina")
    mine.get_by_role("link", name="我的业绩").click()
    expect(mine.locator(".van-nav-bar__title")).to_have_text("我的业绩")
    expect(visits(mine)).to_have_text("1")
    expect(mine.get_by_role("region", name="分组").locator("article")).to_have_count(1)
