"""The console's 客户归属 page end to end: a consultant sees their customer with its
follow-up deadline; a sales manager transfers it to another consultant and the customer
page shows the ownership path; the consultant then finds it gone from their list."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.console import choose, expect, login, make_user, menu, register_walk_ins

pytestmark = pytest.mark.e2e

PHONE = "13712340001"


@pytest.fixture(scope="module")
def customer(stack: Stack) -> int:
    visits = register_walk_ins(stack, [(PHONE, "赵敏", "wanglei", None)])
    make_user(stack, "jingli", roles=["sales_manager"])
    found: int = next(v["customer_id"] for v in visits if v["phone_masked"] == "137****0001")
    return found


def rows(page: Any) -> Any:
    return page.get_by_role("row").filter(has_text="137****0001")


def test_a_manager_transfers_a_customer_and_the_path_shows_it(
    stack: Stack, new_page: Callable[..., Any], customer: int
) -> None:
    consultant = login(new_page, stack, "wanglei")
    menu(consultant).filter(has_text="客户归属").click()
    expect(consultant.get_by_role("radio", name="我的客户")).to_be_checked()
    expect(rows(consultant)).to_contain_text("保护中")
    expect(rows(consultant)).to_contain_text("有效跟进到期")
    expect(rows(consultant).get_by_role("button", name="转交")).to_be_hidden()

    manager = login(new_page, stack, "jingli", "/console/ownership")
    expect(manager.get_by_role("radio", name="跟进中")).to_be_checked()
    row = rows(manager)
    expect(row).to_contain_text("王磊")
    row.get_by_role("button", name="转交").click()
    dialog = manager.get_by_role("dialog", name="转交客户")
    choose(manager, "接收顾问", "李娜")
    dialog.get_by_label("原因").fill("顾问休假，交接跟进")
    dialog.get_by_role("button", name="确定").click()
    expect(manager.get_by_text("转交客户完成，已记入归属路径")).to_be_visible()
    expect(rows(manager)).to_contain_text("李娜")
    expect(rows(manager)).to_contain_text("原顾问：王磊")

    rows(manager).get_by_role("link", name="137****0001").click()
    expect(manager).to_have_url(re.compile(rf"/console/customers/{customer}$"))
    path = manager.get_by_role("list", name="归属路径")
    expect(path).to_contain_text("首次接待")
    expect(path).to_contain_text("经理转交")
    expect(path).to_contain_text("王磊 → 李娜")
    expect(path).to_contain_text("操作人：测试jingli")

    consultant.reload()
    expect(consultant.get_by_text("没有符合条件的客户")).to_be_visible()
