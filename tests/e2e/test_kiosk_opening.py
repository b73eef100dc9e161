"""The kiosk when the office opens: nobody on duty yet (the register screen asks to put
consultants on duty, and a visit without a consultant needs a confirmation), only rota
consultants can receive — a sales manager is neither listed nor picked, though a
customer of theirs stays theirs — and the setup page speaks plain Chinese.

Screenshots: the prompt and the confirmation, for docs/manual/kiosk.md.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from cloud.identity import service as identity_service
from cloud.sales.models import Customer
from cloud.sales.service import PHONE_CONTEXT
from cloud.sync import feed
from shared.phone import mask_phone
from shared.rules import protection_until
from shared.timeutil import utcnow
from tests.e2e.conftest import PASSWORD, SITE_ID, Stack, screenshot
from tests.e2e.kiosk import accept_notice, nobody_on_duty, open_kiosk, rota
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e


expect.set_options(timeout=10_000)
MANAGER = "孙经理"
MANAGERS_CUSTOMER = "13666668888"


def edge_roster(stack: Stack) -> dict[str, list[str]]:
    """Names and roles as the edge holds them (its own database, read-only)."""
    with sqlite3.connect(f"file:{stack.edge.workdir / 'edge.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT name, roles FROM consultant WHERE active").fetchall()
    return {name: re.findall(r"[a-z_]+", roles) for name, roles in rows}


@pytest.fixture(scope="module")
def manager(stack: Stack) -> int:
    """A sales manager of the site who owns a returning customer, as the cloud tells the edge."""
    settings = stack.settings
    with Session(stack.engine) as session:
        user = identity_service.create_user(
            session, username="sunjingli", password=PASSWORD, display_name=MANAGER,
            roles=["sales_manager"], site_ids=[SITE_ID], must_change_password=False,
            actor="e2e")
        first = utcnow() - timedelta(days=5)
        customer = Customer(
            project_id=stack.site.project_id,
            phone_enc=settings.cipher.encrypt(MANAGERS_CUSTOMER, context=PHONE_CONTEXT),
            phone_bidx=settings.blind_index.phone(MANAGERS_CUSTOMER),
            phone34_bidx=settings.blind_index.phone_masked(MANAGERS_CUSTOMER),
            phone_masked=mask_phone(MANAGERS_CUSTOMER), owner_id=user.id, visit_count=1,
            first_visit_at=first, last_visit_at=first, protection_until=protection_until(first))
        session.add(customer)
        session.flush()
        feed.announce_customer(session, settings, customer)  # as the cloud tells the site
        session.commit()
        assert user.id is not None
        manager_id = user.id

    def arrived() -> bool:
        lookup = stack.edge.get(f"/api/v1/kiosk/customers/lookup?phone={MANAGERS_CUSTOMER}"
                                f"&project_id={stack.site.project_id}")
        return lookup.json().get("owner_name") == MANAGER and \
            edge_roster(stack).get(MANAGER) == ["sales_manager"]

    wait_for(arrived, timeout=30, what="the manager and their customer on the edge")
    return manager_id


def test_with_nobody_on_duty_the_register_screen_asks_to_put_consultants_on_duty(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    nobody_on_duty(stack)
    page = open_kiosk(new_page, stack)
    accept_notice(page)
    prompt = page.get_by_test_id("duty-prompt")
    expect(prompt).to_contain_text("现在没有顾问上岗")
    expect(page.get_by_test_id("next-receiver")).to_contain_text("暂无顾问上岗")
    screenshot(page, "kiosk-nobody-on-duty")

    prompt.get_by_role("button", name="安排顾问上岗").click()
    expect(page).to_have_url(re.compile(r"/kiosk/board\?from=register$"))
    page.get_by_role("button", name="王磊 上岗").click()
    expect(page.get_by_text("已有 1 位顾问上岗")).to_be_visible()
    page.get_by_role("button", name="返回来访登记").click()

    expect(page.get_by_role("heading", name="来访登记")).to_be_visible()
    expect(prompt).to_have_count(0)
    expect(page.get_by_role("radio", name="王磊")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("next-receiver")).to_contain_text("王磊")


def test_a_visit_without_a_consultant_is_registered_only_after_confirming(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    nobody_on_duty(stack)
    page = open_kiosk(new_page, stack)
    accept_notice(page)
    page.get_by_label("手机号").fill("13712340001")
    expect(page.get_by_test_id("customer-hint")).to_contain_text("首访")
    submit = page.get_by_role("button", name="提交登记")
    submit.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("未指定接待顾问")
    expect(dialog).to_contain_text("现在没有顾问上岗")
    screenshot(page, "kiosk-no-consultant-confirm")
    dialog.get_by_role("button", name="返回选择顾问").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="来访登记")).to_be_visible()
    visits = stack.edge.get("/api/v1/kiosk/visits").json()
    assert "137****0001" not in {v["phone_masked"] for v in visits}  # nothing registered

    submit.click()
    dialog.get_by_role("button", name="不指定，直接登记").click()
    expect(page.get_by_role("heading", name="首访登记成功")).to_be_visible()
    result = page.get_by_role("status")
    expect(_row(page, result, "接待顾问")).to_contain_text("未指定")
    (visit,) = [v for v in stack.edge.get("/api/v1/kiosk/visits").json()
                if v["phone_masked"] == "137****0001"]
    assert visit["consultant_id"] is None


def _row(page: Any, result: Any, label: str) -> Any:
    """The result's line with exactly this label (the stand-in notice names both roles)."""
    return result.locator("div").filter(has=page.get_by_text(label, exact=True))


def test_only_rota_consultants_receive_a_managers_customer_stays_theirs(
    stack: Stack, new_page: Callable[..., Any], manager: int
) -> None:
    nobody_on_duty(stack)
    rota(stack, "check-in", "lina")
    page = open_kiosk(new_page, stack)
    accept_notice(page)
    picker = page.get_by_role("radiogroup", name="接待顾问")
    # 李娜 on duty, 王磊 off duty, and no manager among those who can be picked
    expect(picker.get_by_role("radio")).to_have_count(3)
    expect(picker.get_by_role("radio", name="李娜")).to_be_visible()
    expect(picker.get_by_role("radio", name="王磊")).to_be_visible()
    expect(picker.get_by_role("radio", name="暂不指定")).to_be_visible()
    expect(picker.get_by_text(MANAGER)).to_have_count(0)

    page.get_by_label("手机号").fill(MANAGERS_CUSTOMER)
    hint = page.get_by_test_id("customer-hint")
    expect(hint).to_contain_text("复访")
    expect(hint).to_contain_text(f"归属顾问 {MANAGER}")
    receiver = page.get_by_test_id("next-receiver")
    expect(receiver).to_contain_text("李娜")  # the head of the queue receives for them
    expect(receiver).to_contain_text(f"归属 {MANAGER} 不参加轮岗")
    expect(picker.get_by_role("radio", name="李娜")).to_have_attribute("aria-checked", "true")
    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_role("heading", name="复访登记成功")).to_be_visible()
    result = page.get_by_role("status")
    expect(_row(page, result, "接待顾问")).to_contain_text("李娜")
    expect(_row(page, result, "归属顾问")).to_contain_text(MANAGER)

    page.get_by_role("link", name="顾问上岗").click()
    expect(page.get_by_role("heading", name="接待队列")).to_be_visible()
    expect(page.get_by_role("button", name="王磊 上岗")).to_be_visible()
    # Nor a member of the rota board (its log may name them as the stand-in's owner).
    expect(page.get_by_role("button", name=f"{MANAGER} 上岗")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(MANAGER))).to_have_count(0)
    refused = stack.edge.register({"project_id": stack.site.project_id,
                                   "phone": "13712340002", "party_size": 1,
                                   "consultant_id": manager})
    assert refused.status_code == 422 and refused.json()["code"] == "not_on_rota"


def test_the_setup_page_speaks_plain_chinese(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    for kind in ("kiosk", "kiosk-portrait"):
        page = new_page(kind)
        page.goto(f"{stack.edge_url}/kiosk/")  # a new tablet, no token yet
        expect(page.get_by_role("heading", name="前台平板设置")).to_be_visible()
        expect(page.get_by_label("终端令牌")).to_be_visible()
        text = page.locator("main").inner_text()
        assert "设置链接" in text and "二维码" in text
        # no environment variable names, URL syntax or other operator words
        assert not re.search(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+|\?token=|ANCHANG|token", text), text
