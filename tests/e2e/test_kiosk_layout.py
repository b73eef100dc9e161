"""The kiosk on a landscape (1280×800) and a portrait (800×1280) tablet: no screen
scrolls sideways or cuts a control off, the phone field shows all 11 digits (grouped
3-4-4), every control is a 44×44 px tap target with a name for screen readers, and the
text has enough contrast (axe-core). The name field shows its limit, the server's.

The portrait screenshots are the ones docs/manual/kiosk.md shows for an upright tablet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import axe_violations
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.kiosk import (
    A11Y_RULES,
    accept_notice,
    grid_columns,
    layout_problems,
    open_kiosk,
    rota,
)

pytestmark = pytest.mark.e2e


expect.set_options(timeout=10_000)
NAME_MAX = 50  # VisitIn.name on the edge
# Each screen's grid of side-by-side parts, which an upright tablet stacks in one column.
GRIDS = {"consent": ".grid", "register": ".register", "result": ".facts", "board": ".board"}


def fits(page: Any, screen: str, portrait: bool, shot: bool = False) -> None:
    """The screen as shown now passes the layout and accessibility checks, in one column
    on an upright tablet; `shot` saves it for the manual as kiosk-<screen>-portrait."""
    assert layout_problems(page) == [], screen
    assert axe_violations(page, A11Y_RULES) == [], screen
    if screen in GRIDS:
        columns = grid_columns(page, GRIDS[screen])
        assert columns == 1 if portrait else columns > 1, f"{screen}: {columns} columns"
    if shot:
        screenshot(page, f"kiosk-{screen}-portrait")


@pytest.mark.parametrize(("kind", "last4"), [("kiosk", "5678"), ("kiosk-portrait", "8765")])
def test_every_screen_fits_the_tablet_either_way_up(
    stack: Stack, new_page: Callable[..., Any], kind: str, last4: str
) -> None:
    rota(stack, "check-in", "wanglei")
    rota(stack, "check-in", "lina")
    portrait = kind == "kiosk-portrait"
    page = open_kiosk(new_page, stack, kind=kind)
    expect(page.get_by_text("云端已连接")).to_be_visible()
    fits(page, "consent", portrait, shot=portrait)
    accept_notice(page)

    phone = page.get_by_label("手机号")
    phone.press_sequentially(f"1381234{last4}", delay=20)
    expect(phone).to_have_value(f"138 1234 {last4}")  # grouped as typed, all digits in view
    hint = page.get_by_test_id("customer-hint")
    expect(hint.get_by_text("首访", exact=True)).to_be_visible()
    picker = page.get_by_role("radiogroup", name="接待顾问")
    expect(picker.get_by_role("radio", checked=True)).to_have_count(1)  # the queue's head
    page.get_by_label("姓名").fill("陈先生")
    expect(page.get_by_text(f"3/{NAME_MAX}")).to_be_visible()
    page.get_by_role("button", name="增加来访人数").click()
    expect(page.get_by_role("spinbutton", name="来访人数")).to_have_value("2")
    page.get_by_role("button", name="三房").click()
    phone.focus()
    fits(page, "register", portrait, shot=portrait)

    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_role("heading", name="首访登记成功")).to_be_visible()
    fits(page, "result", portrait)
    page.get_by_role("button", name="查看今日到访").click()
    expect(page.get_by_role("row").filter(has_text=f"138****{last4}")).to_have_count(1)
    fits(page, "visits", portrait)

    page.get_by_role("link", name="顾问上岗").click()
    expect(page.get_by_role("heading", name="接待队列")).to_be_visible()
    fits(page, "board", portrait, shot=portrait)

    page.get_by_role("link", name="终端设置").click()
    expect(page.get_by_role("heading", name="前台平板设置")).to_be_visible()
    fits(page, "setup", portrait)


def test_the_name_field_shows_the_servers_limit_instead_of_cutting_silently(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    page = open_kiosk(new_page, stack)
    accept_notice(page)
    name = page.get_by_label("姓名")
    expect(page.get_by_text(f"0/{NAME_MAX}")).to_be_visible()
    name.fill("欧" * (NAME_MAX + 5))
    expect(name).to_have_value("欧" * NAME_MAX)
    expect(page.get_by_text(f"{NAME_MAX}/{NAME_MAX}")).to_be_visible()
    # what the field lets through, the edge accepts (and one more it refuses)
    project = stack.site.project_id
    accepted = stack.edge.register({"project_id": project, "phone": "13700001111",
                                    "party_size": 1, "name": "欧" * NAME_MAX})
    assert accepted.status_code == 201, accepted.text
    refused = stack.edge.register({"project_id": project, "phone": "13700002222",
                                   "party_size": 1, "name": "欧" * (NAME_MAX + 1)})
    assert refused.status_code == 422 and refused.json()["code"] == "validation_failed"
