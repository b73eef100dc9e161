"""The privacy officer answers a customer's requests in the console: an access request
shows every record of the number unmasked, a deletion erases it everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.console import api, choose, expect, login, make_user, menu, register_walk_ins, shot

pytestmark = pytest.mark.e2e

PHONE = "13655550001"


def test_the_privacy_officer_answers_an_access_request_then_erases_the_data(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    register_walk_ins(stack, [(PHONE, "林女士", None, "想看三房")])
    make_user(stack, "privacy.officer", roles=["privacy_officer"])
    page = login(new_page, stack, "privacy.officer")
    expect(menu(page)).to_have_text(["个人信息请求"])

    page.get_by_role("button", name="登记请求").click()
    dialog = page.get_by_role("dialog", name="登记个人信息请求")
    dialog.get_by_role("radio", name="查阅").check(force=True)
    dialog.get_by_label("手机号").fill(PHONE)
    choose(page, "受理渠道", "电话")
    dialog.get_by_label("申请内容").fill("想知道贵司保存了我的哪些信息")
    dialog.get_by_role("button", name="登记").click()

    drawer = page.get_by_role("dialog", name="请求 #")
    expect(drawer.get_by_text("136****0001")).to_be_visible()
    drawer.get_by_role("button", name="调取").click()
    expect(drawer.get_by_text(f"林女士 · {PHONE}")).to_be_visible()
    expect(drawer.get_by_text("意向：想看三房")).to_be_visible()
    # The consent the visitor gave at the kiosk is part of what they may see.
    expect(drawer.get_by_text("同意告知书 2026-11-v1")).to_be_visible()
    shot(page, "console-privacy-access")
    drawer.get_by_placeholder("如：已当面向本人提供上述信息的副本").fill("已电话告知本人所存信息")
    drawer.get_by_role("button", name="办结").click()
    expect(drawer.get_by_text("已电话告知本人所存信息")).to_be_visible()
    page.keyboard.press("Escape")

    erase = api(stack, "privacy.officer", "POST", "/privacy/requests",
                json={"kind": "deletion", "phone": PHONE, "channel": "onsite"})
    assert erase.status_code == 201, erase.text
    page.reload()
    page.get_by_role("row").filter(has_text="删除").get_by_role("button", name="办理").click()
    drawer = page.get_by_role("dialog", name="请求 #")
    drawer.get_by_role("button", name="删除个人信息并办结").click()
    page.get_by_role("dialog", name="删除个人信息").get_by_role("button", name="确认删除").click()
    expect(drawer.get_by_text("已删除 1 条客户记录的个人信息")).to_be_visible()

    gone = api(stack, "admin", "GET", "/customers", params={"phone": PHONE})
    assert gone.status_code == 200 and gone.json() == []
