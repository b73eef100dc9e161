"""智能拓客 in a phone-sized Chromium against the running cloud: a broker shares a project
from the H5, a visitor (not signed in, another browser) opens the public page and leaves
a name and number with consent, the broker finds the visitor under 我的线索 with the
share's figures and turns the lead into a referral (转报备), decided at once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from sqlmodel import Session, col, select

from cloud.channel.lead_models import Lead, ShareEvent
from cloud.channel.models import Referral
from tests.e2e.conftest import Stack, screenshot
from tests.e2e.console import api, expect, login, menu, register_walk_ins, shot
from tests.e2e.test_h5 import _broker, log_in, projects  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

VISITOR_PHONE = "13912345678"


def test_share_public_open_lead_my_leads_and_referral(
    stack: Stack, projects: dict[str, int], new_page: Callable[..., Any]  # noqa: F811
) -> None:
    _broker(stack, "tuoke", status="active", phone="13700003333")
    page: Page = new_page("phone")
    log_in(page, stack, "tuoke")
    first = page.get_by_role("region", name="星河湾一期")
    first.get_by_role("button", name="分享项目").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(re.compile(r"/h5/s/[A-Za-z0-9_=-]{44}"))
    screenshot(page, "h5-share")
    found = re.search(r"https?://\S+/h5/s/[A-Za-z0-9_=-]{44}", dialog.inner_text())
    assert found is not None
    link = found.group(0)
    dialog.get_by_role("button", name="确认").click()

    # A visitor on their own phone: no sign-in, the project as the public may see it.
    visitor: Page = new_page("phone")
    visitor.goto(link)
    expect(visitor.get_by_role("heading", name="星河湾一期")).to_be_visible()
    expect(visitor.get_by_text("总价 300万–500万")).to_be_visible()
    expect(visitor.get_by_text("经纪人 经纪人tuoke 为您推荐")).to_be_visible()
    # The share card in the head: what a chat app shows for the link.
    expect(visitor).to_have_title(re.compile(r"^星河湾一期"))
    expect(visitor.locator('meta[property="og:description"]')).to_have_attribute(
        "content", re.compile(r"^经纪人tuoke为您推荐 · 总价 300–500 万"))
    expect(visitor.locator('meta[property="og:image"]')).to_have_attribute(
        "content", re.compile(r"/public/shares/[A-Za-z0-9_=-]{44}/card\.png$"))
    expect(visitor.get_by_text("佣金", exact=False)).to_have_count(0)
    form = visitor.get_by_role("region", name="预约看房")
    form.get_by_label("姓名").fill("李雷")
    form.get_by_label("手机号").fill(VISITOR_PHONE)
    form.get_by_role("button", name="提交").click()
    expect(form.get_by_text("请勾选同意后提交")).to_be_visible()
    form.get_by_role("checkbox", name="我已阅读并同意").click()
    screenshot(visitor, "h5-share-public")
    form.get_by_role("button", name="提交").click()
    expect(form.get_by_text("提交成功，经纪人会尽快与您联系")).to_be_visible()
    visitor.goto("about:blank")  # leaving the page sends the time spent on it

    with Session(stack.engine) as session:
        [lead] = session.exec(select(Lead)).all()
        assert VISITOR_PHONE not in lead.phone_enc and lead.phone_masked == "139****5678"
        kinds = session.exec(select(ShareEvent.kind).order_by(col(ShareEvent.id))).all()
        assert kinds[0] == "open"

    page.get_by_role("navigation", name="主导航").get_by_text("我的").click()
    page.get_by_text("我的线索", exact=True).click()
    card = page.get_by_role("article", name="线索 李** 139****5678")
    expect(card).to_be_visible()
    expect(card.get_by_text("未报备")).to_be_visible()
    page.get_by_role("tab", name=re.compile("我的分享")).click()
    shared = page.get_by_role("article", name="分享 星河湾一期")
    expect(shared.get_by_text("访客")).to_be_visible()
    expect(shared.locator("span", has_text="留资").locator("b")).to_have_text("1")
    screenshot(page, "h5-leads-shares")
    page.get_by_role("tab", name=re.compile("留资线索")).click()
    card.get_by_role("button", name="转报备").click()
    result = page.get_by_role("dialog")
    expect(result).to_contain_text("报备有效")
    expect(result).to_contain_text("139****5678")
    screenshot(page, "h5-leads-referral")
    result.get_by_role("button", name="确认").click()
    expect(card.get_by_text("已报备 · 有效")).to_be_visible()
    with Session(stack.engine) as session:
        [referral] = session.exec(select(Referral).where(
            Referral.phone_masked == "139****5678")).all()
        assert referral.state == "confirmed"
        assert session.exec(select(Lead)).one().referral_id == referral.id


def test_console_lists_leads_and_shows_the_lead_timeline(
    stack: Stack, projects: dict[str, int], new_page: Callable[..., Any]  # noqa: F811
) -> None:
    phone, masked = "13912340000", "139****0000"
    _broker(stack, "tuoke2", status="active", phone="13700004444")
    shared = api(stack, "tuoke2", "POST", "/channel/broker/shares",
                 json={"kind": "project", "project_id": projects["一期"]})
    assert shared.status_code == 201, shared.text
    public = f"{stack.cloud_url}/api/v1/channel/public/shares/{shared.json()['token']}"
    visitor = str(uuid.uuid4())
    assert httpx.post(f"{public}/events", json={
        "visitor_id": visitor, "kind": "open", "page": "overview"}).status_code == 204
    assert httpx.post(f"{public}/events", json={
        "visitor_id": visitor, "kind": "view", "page": "overview", "seconds": 95}
    ).status_code == 204
    assert httpx.post(f"{public}/leads", json={
        "visitor_id": visitor, "name": "韩梅梅", "phone": phone, "consent": True}
    ).status_code == 201
    [lead] = api(stack, "tuoke2", "GET", "/channel/broker/leads").json()
    made = api(stack, "tuoke2", "POST", f"/channel/broker/leads/{lead['id']}/referral")
    assert made.status_code == 201, made.text
    register_walk_ins(stack, [(phone, "韩梅梅", None, None)])
    [customer] = api(stack, "admin", "GET", "/customers", params={"phone": phone}).json()

    page = login(new_page, stack, "admin")
    menu(page).filter(has_text="拓客线索").click()
    row = page.get_by_role("row").filter(has_text=masked)
    expect(row.get_by_text("经纪人tuoke2")).to_be_visible()
    expect(row.get_by_text("1 次 · 2 分钟")).to_be_visible()
    shot(page, "console-channel-leads")

    page.goto(f"{stack.cloud_url}/console/customers/{customer['id']}")
    timeline = page.get_by_role("list", name="线索动态")
    for kind in ("打开分享", "浏览页面", "留资", "报备", "到访"):
        expect(timeline.get_by_text(kind, exact=True).first).to_be_visible()
    expect(timeline.get_by_text("浏览「项目概况」95 秒")).to_be_visible()
    left = re.compile(r"通过经纪人 经纪人tuoke2（链家星河店） 的分享留资（139\*{4}0000）")
    expect(timeline.get_by_text(left)).to_be_visible()
    shot(page, "console-customer-lead-timeline")
