"""来电登记 in the browser, against the running stack (ADR 0056): the receptionist
registers a call at the kiosk and names who answered; a consultant registers a call they
answered on the phone app, kept on the phone while it is offline. Both calls reach the
cloud's register once, with the number masked on every screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from cloud.reception.models import CallRecord
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.kiosk import layout_problems, open_kiosk
from tests.e2e.test_pwa import settled
from tests.e2e.test_pwa_reception import sign_in
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e


def calls(stack: Stack) -> list[CallRecord]:
    with Session(stack.engine) as session:
        return list(session.exec(select(CallRecord)).all())


def test_calls_registered_at_the_kiosk_and_on_the_phone_reach_the_cloud(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    before = len(calls(stack))
    kiosk: Page = open_kiosk(new_page, stack, "/calls")
    expect(kiosk.get_by_role("heading", name="来电登记")).to_be_visible()
    kiosk.get_by_label("来电号码").fill("1380013")
    kiosk.get_by_role("button", name="登记来电").click()
    expect(kiosk.get_by_text("手机号码格式不正确")).to_be_visible()
    kiosk.get_by_label("来电号码").fill("138 0013 9001")
    kiosk.get_by_label("姓名").fill("周先生")
    kiosk.get_by_role("radio", name="户外广告").click()
    kiosk.get_by_role("radio", name="王磊").click()
    settled(kiosk)
    screenshot(kiosk, "kiosk-calls")
    kiosk.get_by_role("button", name="登记来电").click()
    expect(kiosk.get_by_role("status").filter(has_text="已登记来电 138****9001")).to_be_visible()
    listed = kiosk.get_by_role("table", name="今日来电列表")
    expect(listed.get_by_text("138****9001")).to_be_visible()
    expect(listed.get_by_text("王磊")).to_be_visible()
    assert layout_problems(kiosk) == []

    phone: Page = new_page("phone")
    sign_in(phone, stack, "lina")
    phone.get_by_role("link", name="来电登记").click()
    phone.get_by_label("来电号码").fill("13900139002")
    phone.get_by_role("radio", name="网络").click()
    settled(phone)
    screenshot(phone, "pwa-calls")
    phone.context.set_offline(True)  # the call waits on the phone, then goes by itself
    phone.get_by_role("button", name="登记来电").click()
    queued = phone.get_by_role("region", name="待同步的来电")
    expect(queued.get_by_text("139****9002")).to_be_visible()
    phone.context.set_offline(False)
    expect(phone.get_by_role("region", name="今天我接听的来电").get_by_text("139****9002")
           ).to_be_visible(timeout=15_000)

    wait_for(lambda: len(calls(stack)) == before + 2, timeout=30,
             what="both calls in the cloud's register")
    by_number = {c.phone_masked: c for c in calls(stack)}
    assert (by_number["138****9001"].consultant_id, by_number["138****9001"].awareness) == (
        stack.user_ids["wanglei"], "outdoor_ad")
    assert (by_number["139****9002"].consultant_id, by_number["139****9002"].awareness) == (
        stack.user_ids["lina"], "online")
