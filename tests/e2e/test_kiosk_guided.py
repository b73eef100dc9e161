"""扫码带看 at the kiosk in Chromium (issue #21 item 6): the broker's code typed or pasted
(a headless browser has no camera; a scanner that types does the same), checked on the
appliance, the guided visit registered with the provisional answer shown, the referral
confirmed at the cloud, and a second use and a forged code refused in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.kiosk import accept_notice, open_kiosk
from tests.integration.guided import (
    guided_referral,
    issue_code,
    on_appliance,
    referral_state,
    scans,
)
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e

PHONE = "13812340099"


@pytest.fixture(autouse=True)
def _expect(browser: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)


def test_a_typed_code_registers_the_guided_visit_and_is_used_once(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    from playwright.sync_api import expect

    guided = guided_referral(stack.engine, stack.settings, stack.site.project_id, PHONE,
                             prefix="e2e_guide")
    code = issue_code(stack.engine, stack.settings, guided)
    wait_for(lambda: on_appliance(stack.edge.workdir / "edge.db", guided.referral_id),
             timeout=30, what="the referral on the appliance")

    page = open_kiosk(new_page, stack)
    accept_notice(page)
    page.get_by_label("手机号").press_sequentially(PHONE, delay=20)
    field = page.get_by_label("带看码")
    field.fill(code)
    field.press("Enter")  # what a scanner that types ends with
    ok = page.get_by_test_id("qr-ok")
    expect(ok).to_contain_text("带看码有效")
    expect(ok).to_contain_text("138****0099")
    expect(page.get_by_role("radio", name="渠道带访")).to_have_attribute("aria-checked", "true")

    page.get_by_role("button", name="提交登记").click()
    dialog = page.get_by_role("dialog")
    if dialog.count():  # nobody on duty: register without a consultant
        dialog.get_by_role("button", name="不指定，直接登记").click()
    expect(page.get_by_role("heading", name="首访登记成功")).to_be_visible()
    expect(page.get_by_test_id("guided-result")).to_contain_text(f"报备 #{guided.referral_id}")
    expect(page.get_by_test_id("provisional-answer")).to_contain_text("以云端判定为准")
    wait_for(lambda: referral_state(stack.engine, guided.referral_id) == "confirmed",
             timeout=30, what="the referral confirmed at the cloud")

    # Another tablet is handed the same code: refused, with the reason, and recorded.
    other = open_kiosk(new_page, stack)
    accept_notice(other)
    other_field = other.get_by_label("带看码")
    other_field.fill(code)
    other.get_by_test_id("qr-check").click()
    error = other.get_by_test_id("qr-error")
    expect(error).to_contain_text("已使用过")
    expect(error).to_contain_text("qr_replayed")

    other_field.fill(code[:-8] + "AAAAAAAA")  # a tampered signature
    other_field.press("Enter")
    expect(error).to_contain_text("伪造")
    wait_for(lambda: [s for s in scans(stack.engine) if s[0] != "accepted"] == [
        ("refused", "qr_replayed"), ("refused", "qr_bad_signature")], timeout=30,
        what="the refusals recorded at the cloud")
    assert [s for s in scans(stack.engine) if s[0] == "accepted"] == [("accepted", "ok")]

