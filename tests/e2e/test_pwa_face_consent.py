"""A visitor withdraws face consent through the sales manager's phone (ADR 0053), against
the running stack: the manager finds the visitor's consent by phone in 接待管理 and
withdraws it; the appliance ends the consent, and the look-up reaches the cloud's audit
log as the manager's search. A consultant is not shown the way there and is refused."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.identity.models import User
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.test_kiosk_faces import NOTICE, set_faces
from tests.e2e.test_pwa import settled
from tests.e2e.test_pwa_reception import manager, sign_in
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e
PHONE = "13700005005"


def consent_states(stack: Stack) -> list[int]:
    with sqlite3.connect(stack.edge.workdir / "edge.db") as db:
        return [g for (g,) in db.execute("SELECT granted FROM face_consent").fetchall()]


def searches(stack: Stack, user_id: int) -> list[AuditLog]:
    with Session(stack.engine) as session:
        return list(session.exec(select(AuditLog).where(
            AuditLog.action == "customer.search", AuditLog.actor == f"user:{user_id}")).all())


def user_id(stack: Stack, username: str) -> int:
    with Session(stack.engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        assert user.id is not None
        return user.id


def test_a_manager_withdraws_a_visitors_face_consent_found_by_phone(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    manager(stack)
    boss = user_id(stack, "sunjl")
    set_faces(stack, True)
    try:
        registered = stack.edge.register({"project_id": stack.site.project_id, "phone": PHONE,
                                          "party_size": 1})
        assert registered.status_code == 201, registered.text
        given = httpx.post(
            f"{stack.edge_url}/api/v1/kiosk/visits/{registered.json()['id']}/face-consent",
            json={"notice_version": NOTICE},
            headers={"Authorization": f"Bearer {stack.edge.token}"}, timeout=10)
        assert given.status_code == 200, given.text
        assert consent_states(stack) == [1]

        consultant: Page = new_page("phone")
        sign_in(consultant, stack, "wanglei")
        # A consultant typing the page's address is sent back by the phone's router (the
        # appliance refuses the look-up too: tests/edge/faces/test_staff_withdrawal.py).
        consultant.goto(stack.edge_url + "/pwa/reception/face-consent")
        expect(consultant.get_by_text("您的角色不能使用“撤回人脸授权”")).to_be_visible()
        expect(consultant.get_by_role("region", name="今日我的来访")).to_be_visible()
        expect(consultant.get_by_label("手机号")).to_have_count(0)

        page: Page = new_page("phone")
        sign_in(page, stack, "sunjl")
        page.get_by_role("link", name="接待管理").click()
        page.get_by_text("撤回人脸授权").first.click()
        page.get_by_label("手机号").fill(PHONE)
        page.get_by_role("button", name="查找").click()
        found = page.get_by_role("region", name="人脸授权记录")
        expect(found.get_by_text("137****5005 的人脸授权")).to_be_visible()
        expect(found.get_by_text("已授权（尚未采集到人脸）")).to_be_visible()
        settled(page)
        screenshot(page, "pwa-face-consent-withdraw")

        found.get_by_role("button", name="撤回人脸授权并删除人脸数据").click()
        page.get_by_role("dialog").get_by_role("button", name="确认撤回").click()
        expect(found.get_by_text("已撤回", exact=True)).to_be_visible()
        expect(found.get_by_text("该访客的人脸授权均已撤回")).to_be_visible()
        assert consent_states(stack) == [0]
        page.get_by_label("手机号").fill("1370000")
        page.get_by_role("button", name="查找").click()
        expect(page.get_by_text("请输入访客登记时的 11 位手机号")).to_be_visible()

        wait_for(lambda: len(searches(stack, boss)) >= 2, timeout=30,
                 what="the manager's look-ups in the cloud's audit log")
    finally:
        set_faces(stack, False)

