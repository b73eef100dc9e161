"""A sales manager's 接待管理 on the phone against the running stack: today's queue from
the appliance, a penalty with what happened, and a "came before, forgot the name" visit
assigned to the consultant who received the customer before — both kept by the cloud as
rota events. A consultant is not shown the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from cloud.identity import service as identity_service
from cloud.reception.models import RotaEventRecord
from tests.e2e.conftest import PASSWORD, SITE_ID, Stack, screenshot
from tests.e2e.kiosk import rota
from tests.e2e.test_pwa import settled
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e


def manager(stack: Stack) -> None:
    with Session(stack.engine) as session:
        identity_service.create_user(
            session, username="sunjl", password=PASSWORD, display_name="孙经理",
            roles=["sales_manager"], site_ids=[SITE_ID], scope_all=False,
            must_change_password=False, actor="e2e")
        session.commit()


def cloud_rota(stack: Stack, action: str) -> list[RotaEventRecord]:
    with Session(stack.engine) as session:
        return list(session.exec(select(RotaEventRecord).where(RotaEventRecord.action == action)
                                 .order_by(col(RotaEventRecord.occurred_at))).all())


def sign_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(stack.edge_url + "/pwa/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("region", name="今日我的来访")).to_be_visible()


def test_a_manager_penalises_and_assigns_a_claim_on_the_phone(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    manager(stack)
    rota(stack, "check-in", "lina")
    rota(stack, "check-in", "wanglei")
    forgot = stack.edge.register({
        "project_id": stack.site.project_id, "phone": "13700004001", "name": "冯雪",
        "party_size": 2, "consultant_id": stack.user_ids["lina"], "forgot_consultant": True})
    assert forgot.status_code == 201, forgot.text

    consultant: Page = new_page("phone")
    sign_in(consultant, stack, "wanglei")
    expect(consultant.get_by_role("link", name="接待管理")).to_have_count(0)

    page: Page = new_page("phone")
    sign_in(page, stack, "sunjl")
    page.get_by_role("link", name="接待管理").click()
    queue = page.get_by_role("region", name="今日接待顺序")
    expect(queue.get_by_text("第 1 位 · 下一位接待")).to_be_visible()
    expect(queue.get_by_text("李娜")).to_be_visible()
    claims = page.get_by_role("region", name="待认领")
    expect(claims.get_by_text("冯** 137****4001")).to_be_visible()
    settled(page)
    screenshot(page, "pwa-reception")

    page.get_by_role("button", name="处罚 王磊").click()
    sheet = page.get_by_role("dialog", name="处罚")
    sheet.get_by_role("radio", name="挑客（失去下一轮）").click()
    sheet.get_by_role("button", name="确认处罚").click()
    expect(page.get_by_text("请写明经过（至少 2 个字）")).to_be_visible()
    sheet.get_by_label("经过说明").fill("挑选客户，推给同事")
    sheet.get_by_role("button", name="确认处罚").click()
    expect(queue.get_by_text("处罚：失去 1 次轮次")).to_be_visible()

    claims.get_by_role("button", name="认领 137****4001").click()
    claim = page.get_by_role("dialog", name="认领客户")
    claim.get_by_role("radio", name="王磊").click()
    claim.get_by_role("button", name="确认认领").click()
    expect(claims.get_by_text("没有待认领的客户")).to_be_visible()

    wait_for(lambda: cloud_rota(stack, "penalty") and cloud_rota(stack, "claimed"),
             timeout=30, what="the penalty and the claim in the cloud")
    [penalty] = cloud_rota(stack, "penalty")
    assert penalty.consultant_id == stack.user_ids["wanglei"]
    [claimed] = cloud_rota(stack, "claimed")
    assert claimed.consultant_id == stack.user_ids["wanglei"]
    assert claimed.actor.startswith("user:")
