"""The walking skeleton's story through the screens: a receptionist registers a walk-in
on the kiosk tablet, and HQ sees that visit — once, masked — in the web console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Stack
from tests.e2e.kiosk import rota
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e


def test_a_kiosk_registration_is_visible_in_the_console(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    from playwright.sync_api import expect

    rota(stack, "check-in", "wanglei")  # a consultant on duty to receive the walk-in
    kiosk = new_page("kiosk")
    kiosk.goto(f"{stack.edge_url}/kiosk/?token={stack.edge.token}")
    kiosk.get_by_role("button", name="同意并继续").click()
    kiosk.get_by_label("手机号").fill("+86 136 5555 0001")
    kiosk.get_by_label("姓名").fill("吴女士")
    kiosk.get_by_role("button", name="提交登记").click()
    expect(kiosk.get_by_role("heading", name="首访登记成功")).to_be_visible(timeout=10_000)
    wait_for(lambda: stack.edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
             timeout=30, what="the visit synced to the cloud")

    console = new_page("console")
    console.goto(stack.cloud_url + "/console/")
    console.get_by_label("用户名").fill("admin")
    console.get_by_label("密码", exact=True).fill(PASSWORD)
    console.get_by_role("button", name="登录").click()
    console.get_by_role("menubar").get_by_role("menuitem", name="到访记录").click()
    row = console.get_by_role("row").filter(has_text="136****0001")
    expect(row).to_have_count(1, timeout=10_000)
    expect(row).to_contain_text("吴**")
    expect(row).to_contain_text("首访")
    assert "13655550001" not in console.content()
