"""The channel manager reviews a risk case (渠道风控) with its evidence timeline and
voids the attribution, then decides a broker's appeal (渠道申诉) with its evidence file,
overriding the referral; the broker is told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from cloud.audit import service as audit_service
from cloud.channel import risk_cases
from cloud.identity.models import User
from cloud.jobs.registry import jobs
from shared.timeutil import iso, utcnow
from tests.cloud.appeal_world import PNG
from tests.cloud.channel_world import add_agency, attach_broker
from tests.e2e.conftest import SITE_ID, Stack
from tests.e2e.console import api, choose, expect, login, make_user, menu, shot

pytestmark = pytest.mark.e2e


def _refer(stack: Stack, broker: str, phone: str, name: str) -> dict[str, Any]:
    answer = api(stack, broker, "POST", "/channel/referrals",
                 json={"project_id": stack.site.project_id, "phone": phone, "name": name})
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_the_channel_manager_reviews_a_case_and_decides_an_appeal(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, "cm.casework", roles=["channel_manager"])
    for username in ("e2e.broker1", "e2e.broker2"):
        make_user(stack, username, roles=["broker"])
    with Session(stack.engine, expire_on_commit=False) as session:
        agency = add_agency(session, "e2e渠道", created_by=stack.user_ids["admin"])
        for n, username in enumerate(("e2e.broker1", "e2e.broker2")):
            user = session.exec(select(User).where(User.username == username)).one()
            attach_broker(session, stack.settings, user.id or 0, agency=agency,
                          phone=f"1370000000{n}")
        # The kiosk looked the number up an hour before the broker referred it.
        audit_service.record(session, action="customer.lookup", actor=f"kiosk:{SITE_ID}",
                             object_type="customer", object_id="",
                             detail={"project_id": stack.site.project_id,
                                     "phone_masked": "136****0001", "known": False,
                                     "phone_bidx": stack.settings.blind_index.phone("13677770001"),
                                     "looked_up_at": iso(utcnow() - timedelta(hours=1))})
        session.commit()
    flagged = _refer(stack, "e2e.broker1", "13677770001", "张伟")
    assert flagged["state"] == "confirmed"
    # A flagging check runs after the answer, in the minute's referral scan (ADR 0049).
    with Session(stack.engine) as session:
        assert jobs()[risk_cases.REFERRAL_SCAN_JOB].run(session, stack.settings)["opened"] == 1
        session.commit()
    # An appeal: broker2's referral of another number, refused because broker1 was first.
    _refer(stack, "e2e.broker1", "13677770002", "王芳")
    refused = _refer(stack, "e2e.broker2", "13677770002", "王芳")
    assert refused["state"] == "invalid"
    filed = api(stack, "e2e.broker2", "POST", "/channel/appeals",
                json={"referral_id": refused["id"], "reason": "客户先联系的我，附聊天截图"})
    assert filed.status_code == 201, filed.text
    kept = api(stack, "e2e.broker2", "POST", f"/channel/appeals/{filed.json()['id']}/evidence",
               files={"file": ("聊天截图.png", PNG, "image/png")})
    assert kept.status_code == 201, kept.text

    page = login(new_page, stack, "cm.casework")
    expect(menu(page)).to_contain_text(["渠道风控", "渠道申诉"])
    menu(page).filter(has_text="渠道风控").click()
    expect(page.locator("[data-check=searched_before_referral] .count")).to_have_text("1")
    row = page.get_by_role("row").filter(has_text="报备前已查询")
    row.get_by_role("button", name="查看").click()
    drawer = page.get_by_role("dialog", name="风控案件 #")
    expect(drawer.get_by_text(f"前台平板查询号码（kiosk:{SITE_ID}）")).to_be_visible()
    expect(drawer.get_by_text(f"#{flagged['id']} · 136****0001")).to_be_visible()
    shot(page, "console-risk-case")
    drawer.get_by_placeholder("复核依据（记入审计）").fill("前台查询后才报备，疑似截客")
    drawer.get_by_text("确认时作废该报备的归属").click()
    drawer.get_by_role("button", name="确认异常").click()
    expect(drawer.get_by_text("（归属已作废）")).to_be_visible()
    page.keyboard.press("Escape")

    menu(page).filter(has_text="渠道申诉").click()
    page.get_by_role("row").filter(has_text="客户先联系的我").get_by_role(
        "button", name="处理").click()
    drawer = page.get_by_role("dialog", name="申诉 #")
    expect(drawer.get_by_role("button", name="聊天截图.png")).to_be_visible()
    drawer.get_by_role("button", name="开始审核").click()
    expect(drawer.get_by_text("审核中")).to_be_visible()
    drawer.get_by_placeholder("将告知经纪人并记入审计").fill("截图证明客户先联系该经纪人")
    choose(page, "改判为", "有效")
    shot(page, "console-appeal-decision")
    drawer.get_by_role("button", name="申诉成立").click()
    expect(drawer.get_by_text("系统原判定：invalid")).to_be_visible()

    notes = api(stack, "e2e.broker2", "GET", "/channel/notifications/mine").json()
    assert notes[0]["title"] == "申诉结果：申诉成立"
    voided = api(stack, "e2e.broker1", "GET", f"/channel/referrals/{flagged['id']}").json()
    assert voided["reason_code"] == "risk_voided"
    assert api(stack, "e2e.broker1", "GET", "/channel/notifications/mine").json()[0][
        "kind"] == "risk_void"
