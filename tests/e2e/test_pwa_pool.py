"""公客池 on the phone (issue #22): a consultant finds a lapsed customer of a colleague's
in the pool and asks to take them; the sales director, on their own phone, approves; the
customer is the consultant's from then on. A sales director typing a consultant's page
is sent back; with the cloud out of reach the page says the pool needs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from cloud.sales.models import Customer
from tests.cloud.ownership_world import to_pool
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.console import api, make_user
from tests.e2e.test_pwa import cloud_customer, log_in, settled
from tests.e2e.test_pwa_reception import sign_in

pytestmark = pytest.mark.e2e

DIRECTOR = "zj.phone"


def pooled(stack: Stack, phone: str, name: str, owner: str) -> int:
    """A customer of `owner`'s, lapsed into the 公客池."""
    customer_id = cloud_customer(stack, phone, name, contacted_days_ago=1)
    with Session(stack.engine) as db:
        customer = db.get(Customer, customer_id)
        assert customer is not None
        customer.owner_id = stack.user_ids[owner]
        to_pool(db, customer)
    return customer_id


def test_a_consultant_asks_for_a_pool_customer_and_the_director_approves_on_the_phone(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, DIRECTOR, roles=["sales_director"])
    customer_id = pooled(stack, "13500006301", "孙丽", owner="lina")

    phone: Page = new_page("phone")
    log_in(phone, stack)
    phone.get_by_role("link", name="公客池").click()
    pool = phone.get_by_role("region", name="公客池")
    row = pool.get_by_label("公客 135****6301")
    expect(row).to_contain_text("原顾问 李娜")
    row.get_by_role("button", name="申请领取 135****6301").click()
    sheet = phone.get_by_role("form", name="申请领取")
    sheet.get_by_label("申请理由").fill("客户来电咨询三居")
    settled(phone)
    screenshot(phone, "pwa-pool-request")
    sheet.get_by_role("button", name="提交申请").click()
    expect(row.get_by_role("button", name="申请领取 135****6301")).to_have_text("已申请")
    expect(row.get_by_role("button", name="申请领取 135****6301")).to_be_disabled()
    phone.get_by_role("tab", name="我的申请").click()
    expect(phone.get_by_role("region", name="领取申请").get_by_label(
        "领取申请 135****6301")).to_contain_text("待审批")

    boss: Page = new_page("phone")
    sign_in(boss, stack, DIRECTOR)
    boss.get_by_role("link", name="公客池").click()
    expect(boss.locator(".van-nav-bar__title")).to_have_text("公客领取审批")
    waiting = boss.get_by_role("region", name="领取申请").get_by_label("领取申请 135****6301")
    expect(waiting).to_contain_text("申请人 王磊")
    expect(waiting).to_contain_text("客户来电咨询三居")
    settled(boss)
    screenshot(boss, "pwa-pool-approve")
    waiting.get_by_role("button", name="同意 135****6301").click()
    decision = boss.get_by_role("form", name="审批领取")
    decision.get_by_label("审批意见").fill("同意，尽快回访")
    decision.get_by_role("button", name="确认同意").click()
    expect(boss.get_by_role("region", name="领取申请")).not_to_contain_text("135****6301")
    boss.get_by_role("tab", name="已处理").click()
    expect(boss.get_by_role("region", name="领取申请").get_by_label(
        "领取申请 135****6301")).to_contain_text("已同意")

    # Not a consultant's page: the router sends a typed link back, as the cloud would refuse.
    boss.goto(stack.edge_url + "/pwa/follow-up")
    expect(boss.get_by_text("您的角色不能使用“写跟进”")).to_be_visible()
    expect(boss.get_by_role("region", name="今日我的来访")).to_be_visible()

    card = api(stack, DIRECTOR, "GET", f"/customers/{customer_id}/ownership").json()
    assert (card["customer"]["ownership"], card["customer"]["owner_id"]) == (
        "owned", stack.user_ids["wanglei"])
    assert card["path"][-1]["kind"] == "pickup"
    phone.get_by_role("tab", name="公客池").click()
    expect(phone.get_by_role("region", name="公客池")).not_to_contain_text("135****6301")

    # No cloud, no pool: said plainly.
    phone.context.route(stack.cloud_url + "/**", lambda route: route.abort("connectionrefused"))
    phone.goto(stack.edge_url + "/pwa/pool")
    expect(phone.get_by_role("alert")).to_contain_text("连不上云端：公客池须联网查看和领取")
