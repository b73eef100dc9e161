"""带看 without a code in Chromium (issue #21, ADR 0030): on the reception tablet the
receptionist finds the brokers who referred the visitor's number (masked, from the
appliance's down-feed copy), picks the one at the desk and registers; the cloud confirms
the referral as a guided visit and opens a review case. Then the channel manager reads
it in 渠道 → 带看记录, filtered by method, with the registration's provisional answer
beside the cloud's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from cloud.channel.models import QrScan
from cloud.channel.risk_models import RiskCase
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.console import choose, login, make_user, menu, shot
from tests.e2e.kiosk import accept_notice, open_kiosk
from tests.integration.guided import guided_referral, on_appliance, referral_state
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e

PHONE = "13812340077"


@pytest.fixture(autouse=True)
def _expect(browser: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)


def _manual_scans(stack: Stack) -> list[tuple[str, str | None]]:
    with Session(stack.engine) as s:
        return [(r.outcome, r.cloud_state) for r in s.exec(
            select(QrScan).where(QrScan.method == "manual"))]


def _cases(stack: Stack, referral_id: int) -> list[str]:
    with Session(stack.engine) as s:
        return [c.check_code for c in s.exec(
            select(RiskCase).where(RiskCase.referral_id == referral_id))]


def test_the_receptionist_picks_the_broker_by_hand_and_the_manager_sees_it(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    from playwright.sync_api import expect

    guided = guided_referral(stack.engine, stack.settings, stack.site.project_id, PHONE,
                             prefix="e2e_pick")
    wait_for(lambda: on_appliance(stack.edge.workdir / "edge.db", guided.referral_id),
             timeout=30, what="the referral on the appliance")

    page = open_kiosk(new_page, stack)  # a landscape reception tablet
    accept_notice(page)
    page.get_by_label("手机号").press_sequentially(PHONE, delay=20)
    picker = page.get_by_test_id("guide-picker")
    picker.get_by_role("button", name="手工指定带看经纪人").click()
    card = picker.locator(f"[data-referral='{guided.referral_id}']")
    expect(card).to_contain_text("e2e_pick渠道")
    expect(card).to_contain_text("137****0000")  # the broker's phone, masked
    expect(card).to_contain_text("报备 138****0077")
    card.click()
    expect(card).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("guide-picked")).to_contain_text("需渠道经理复核")
    screenshot(page, "kiosk-manual-guide")
    expect(page.get_by_role("radio", name="渠道带访")).to_have_attribute("aria-checked", "true")

    page.get_by_role("button", name="提交登记").click()
    dialog = page.get_by_role("dialog")
    if dialog.count():  # nobody on duty: register without a consultant
        dialog.get_by_role("button", name="不指定，直接登记").click()
    expect(page.get_by_role("heading", name="首访登记成功")).to_be_visible()
    expect(page.get_by_test_id("guided-result")).to_contain_text("手工指定带看")
    expect(page.get_by_test_id("guided-result")).to_contain_text(f"报备 #{guided.referral_id}")
    expect(page.get_by_test_id("manual-guide-note")).to_contain_text("渠道经理复核")

    wait_for(lambda: referral_state(stack.engine, guided.referral_id) == "confirmed",
             timeout=30, what="the referral confirmed at the cloud")
    wait_for(lambda: _manual_scans(stack) == [("accepted", "confirmed")], timeout=30,
             what="the pick recorded at the cloud")
    assert _cases(stack, guided.referral_id) == ["manual_guide"]

    make_user(stack, "cm.guided", roles=["channel_manager"])
    console = login(new_page, stack, "cm.guided")
    menu(console).filter(has_text="带看记录").click()
    table = console.locator(".guided-visits")
    row = table.get_by_role("row").filter(has_text=f"#{guided.referral_id}")
    expect(row.first).to_contain_text("前台手工指定")
    expect(row.first).to_contain_text("有效")
    choose(console, "方式", "前台手工指定")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the pick
    shot(console, "console-guided-visits")
    choose(console, "结果", "伪造")
    expect(table.get_by_text("暂无带看记录")).to_be_visible()

    console.get_by_role("tab", name="临时判客对比").click()
    answers = console.locator(".provisional-answers")
    expect(answers.get_by_role("row").filter(has_text="138****0077").first).to_contain_text(
        "首访")
