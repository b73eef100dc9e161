"""Customer 360 on the consultant's phone (客户360) with the cloud link down: the broker
stopped and the cloud out of the phone's reach, the appliance still answers my customers
from its own store and the customer cache the cloud fed down — the stage filter, a search
by number (audited once the link is back), the profile and intentions reception
recorded, first and last visit and the return visits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Customer
from cloud.sync import feed
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.test_pwa import cloud_customer, log_in, settled
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e

PLEDGED, WALK_IN = "13500003601", "13500003602"


def searches(stack: Stack) -> list[AuditLog]:
    with Session(stack.engine) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == "customer.search")
                                 .order_by(col(AuditLog.id))).all())


def pledge(stack: Stack, customer_id: int) -> None:
    """The customer reached 认筹 in the cloud (as a deal would move them), fed down."""
    with Session(stack.engine) as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.status, customer.visit_count = "pledged", 3
        feed.announce_customer(session, stack.settings, customer)
        session.commit()


def test_customer_360_through_a_cloud_outage(stack: Stack, new_page: Callable[..., Any]) -> None:
    assert stack.broker is not None
    pledge(stack, cloud_customer(stack, PLEDGED, "周敏", contacted_days_ago=2))
    visit = stack.edge.register({
        "project_id": stack.site.project_id, "phone": WALK_IN, "name": "钱晓东",
        "party_size": 2, "source": "referral_old_customer",
        "consultant_id": stack.user_ids["wanglei"],
        "profile": {"gender": "male", "grade": "A", "awareness": "friend",
                    "layout": "三室两厅", "area_min": 110, "area_max": 140,
                    "budget_min": 300, "budget_max": 450, "purpose": "own_use"}})
    assert visit.status_code == 201, visit.text
    page: Page = new_page("phone")
    log_in(page, stack)
    page.get_by_role("tab", name="我的客户").click()
    mine = page.get_by_role("region", name="我的客户")
    page.get_by_role("tab", name=re.compile("全部")).click()
    expect(mine.get_by_role("link", name="周** 135****3601").get_by_text("认筹")
           ).to_be_visible(timeout=20_000)  # the cloud's stage, fed down

    # The cloud link goes: the broker stops and the phone cannot reach the cloud either.
    stack.broker.stop()
    page.context.route(stack.cloud_url + "/**", lambda route: route.abort("connectionrefused"))
    try:
        page.reload()
        page.get_by_role("tab", name=re.compile("全部")).click()
        expect(mine.get_by_role("link", name="钱** 135****3602")).to_be_visible()
        expect(page.get_by_label("复访率")).to_contain_text("复访率 50%")

        page.get_by_role("button", name="筛选").click()
        sheet = page.get_by_role("dialog", name="筛选客户")
        sheet.get_by_role("region", name="客户状态").get_by_role("button", name="认筹").click()
        settled(page)
        screenshot(page, "pwa-customer-filter")
        sheet.get_by_role("button", name="确定").click()
        expect(mine.get_by_role("link")).to_have_count(1)
        expect(mine.get_by_role("link", name="周** 135****3601")).to_be_visible()
        expect(page.get_by_role("button", name="筛选 1")).to_be_visible()
        page.get_by_role("button", name="筛选 1").click()
        sheet.get_by_role("button", name="清除").click()
        sheet.get_by_role("button", name="确定").click()

        search = page.get_by_role("searchbox")
        search.fill("135 0000 3602")
        search.press("Enter")
        expect(page.get_by_text("搜索结果 1 位")).to_be_visible()
        mine.get_by_role("link", name="钱** 135****3602").click()

        facts = page.get_by_role("group", name="客户档案")
        expect(facts.get_by_text("到访", exact=True)).to_be_visible()
        expect(facts.get_by_text("老带新")).to_be_visible()
        expect(facts.get_by_text("0 次")).to_be_visible()  # no return visit yet
        traits = page.get_by_role("group", name="客户特征")
        expect(traits.get_by_text("A 级")).to_be_visible()
        expect(traits.get_by_text("朋友介绍")).to_be_visible()
        intentions = page.get_by_role("group", name="置业意向")
        expect(intentions.get_by_text("三室两厅")).to_be_visible()
        expect(intentions.get_by_text("110–140 ㎡")).to_be_visible()
        expect(intentions.get_by_text("300–450 万元")).to_be_visible()
        expect(intentions.get_by_text("自住")).to_be_visible()
        expect(page.get_by_text("首访 · 2 人")).to_be_visible()  # the timeline, edge-local
        # The file's title at the top of the picture (the checks above scrolled past it).
        page.evaluate("() => document.querySelector('[aria-label=\"客户档案\"]')"
                      ".previousElementSibling.scrollIntoView()")
        settled(page)
        screenshot(page, "pwa-customer-360")
        assert searches(stack) == []  # audited, but waiting in the appliance's outbox
    finally:
        stack.broker.start()
    wait_for(lambda: len(searches(stack)) == 1, timeout=60, what="the search audited")
    [audited] = searches(stack)
    assert audited.actor == f"user:{stack.user_ids['wanglei']}"
    assert audited.detail["by"] == "phone" and audited.detail["phone_masked"] == "135****3602"
