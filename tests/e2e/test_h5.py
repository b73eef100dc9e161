"""The broker H5 (经纪人) in a phone-sized Chromium against the running cloud: a broker
signs in with a password, filters the projects, refers a customer and reads the decision
and its reason at once, refers them again and is told why not, and finds the customer
under 我的客户. A pending broker sees their state; a page whose API is not deployed yet
says so. Screenshots go to docs/manual/images/ for docs/manual/broker-h5.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.channel import notifications
from cloud.channel.models import Referral
from cloud.identity import service as identity_service
from cloud.identity.models import User
from shared.attribution import REASON_TEXT, ReasonCode
from shared.timeutil import utcnow
from tests.cloud.channel_world import add_agency, attach_broker
from tests.e2e.conftest import PASSWORD, SITE_ID, Stack, screenshot
from tests.e2e.console import api

pytestmark = pytest.mark.e2e

CUSTOMER_PHONE = "13812345678"


def _broker(stack: Stack, username: str, *, status: str, phone: str) -> None:
    with Session(stack.engine) as session:
        user = identity_service.create_user(
            session, username=username, password=PASSWORD, display_name=f"经纪人{username}",
            roles=["broker"], site_ids=[], scope_all=False, must_change_password=False,
            actor="e2e")
        session.commit()
        assert user.id is not None
        agency = add_agency(session, "链家星河店", created_by=stack.user_ids["admin"])
        attach_broker(session, stack.settings, user.id, agency=agency, status=status,
                      phone=phone)


@pytest.fixture(scope="module")
def projects(stack: Stack) -> dict[str, int]:
    """Two projects with profiles (浦东 / 静安) and a published campaign on the first."""
    with Session(stack.engine) as session:
        second = Project(site_id=SITE_ID, name="星河湾二期", city="上海")
        session.add(second)
        session.commit()
        first = session.exec(select(Project).where(Project.name == "星河湾一期")).one()
        ids = {"一期": first.id or 0, "二期": second.id or 0}
    for key, district, low, high, layouts in (
        ("一期", "浦东新区", 3_000_000, 5_000_000, ["三室两厅", "四室两厅"]),
        ("二期", "静安区", 8_000_000, 12_000_000, ["四室两厅"]),
    ):
        saved = api(stack, "admin", "PUT", f"/channel/projects/{ids[key]}/profile", json={
            "district": district, "price_min_yuan": low, "price_max_yuan": high,
            "layouts": layouts, "cooperation": "成交（签约）后 30 天内结佣，佣金为成交价的 1.2%"})
        assert saved.status_code == 200, saved.text
    now = utcnow()
    made = api(stack, "admin", "POST", "/channel/campaigns", json={
        "title": "金秋带看节", "requirements": "活动期内带看 3 组",
        "rewards": "每组带看奖励 300 元",
        "announcement": "周末样板间开放", "starts_at": now.isoformat(),
        "ends_at": now.replace(year=now.year + 1).isoformat(), "project_ids": [ids["一期"]]})
    assert made.status_code == 201, made.text
    published = api(stack, "admin", "PATCH", f"/channel/campaigns/{made.json()['id']}",
                    json={"status": "published"})
    assert published.status_code == 200, published.text
    return ids


def log_in(page: Page, stack: Stack, username: str, *, shot: str | None = None) -> None:
    page.goto(stack.cloud_url + "/h5/")
    expect(page).to_have_url(re.compile(r"/h5/login"))
    expect(page.get_by_role("heading", name="经纪人登录")).to_be_visible()
    page.get_by_role("tab", name="密码登录").click()
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="登录", exact=True).click()


def _referral_reason(stack: Stack) -> list[tuple[str, str]]:
    with Session(stack.engine) as session:
        rows = session.exec(select(Referral).order_by(col(Referral.id))).all()
        return [(r.state, REASON_TEXT[ReasonCode(r.reason_code)]) for r in rows]


def test_a_broker_filters_projects_refers_and_sees_the_decision(
    stack: Stack, projects: dict[str, int], new_page: Callable[..., Any]
) -> None:
    _broker(stack, "jingjiren", status="active", phone="13700001111")
    page: Page = new_page("phone")
    log_in(page, stack, "jingjiren", shot="h5-login")

    expect(page.get_by_role("navigation", name="主导航").get_by_text("报备")).to_be_visible()
    first = page.get_by_role("region", name="星河湾一期")
    second = page.get_by_role("region", name="星河湾二期")
    expect(first).to_be_visible()
    expect(second).to_be_visible()
    expect(first.get_by_text("总价 300万–500万")).to_be_visible()
    expect(first.get_by_text("报备后 72 小时内到访")).to_be_visible()
    expect(first.get_by_role("article", name="金秋带看节")).to_be_visible()
    expect(second.get_by_role("article")).to_have_count(0)
    screenshot(page, "h5-projects")

    page.get_by_text("全部区域").click()
    page.get_by_role("menuitem", name="静安区").click()
    expect(first).to_be_hidden()
    expect(second).to_be_visible()
    page.get_by_text("静安区").first.click()
    page.get_by_role("menuitem", name="全部区域").click()
    page.get_by_text("不限价格").click()
    page.get_by_role("menuitem", name="300–500万").click()
    expect(second).to_be_hidden()
    expect(first).to_be_visible()

    first.get_by_role("button", name="报备客户").click()
    expect(page).to_have_url(re.compile(r"/h5/refer\?project="))
    expect(page.get_by_label("项目")).to_have_value("星河湾一期")
    page.get_by_label("客户手机号").fill(CUSTOMER_PHONE)
    page.get_by_label("客户姓名").fill("陈大文")
    page.get_by_role("radio", name="企业").click()
    screenshot(page, "h5-refer")
    page.get_by_role("button", name="提交报备").click()

    result = page.get_by_role("status", name="报备结果")
    expect(result.get_by_text("报备成功")).to_be_visible()
    [(state, reason)] = _referral_reason(stack)
    assert state == "confirmed"
    expect(result.get_by_text(reason)).to_be_visible()
    expect(result.get_by_text("陈** 138****5678")).to_be_visible()
    screenshot(page, "h5-refer-result")

    # The same customer again: refused at once, with the reason in Chinese.
    result.get_by_role("button", name="继续报备").click()
    page.get_by_label("客户手机号").fill(CUSTOMER_PHONE)
    page.get_by_label("客户姓名").fill("陈大文")
    page.get_by_role("button", name="提交报备").click()
    expect(result.get_by_text("报备无效")).to_be_visible()
    expect(result.get_by_text(REASON_TEXT[ReasonCode.ALREADY_REFERRED_BY_YOU])).to_be_visible()

    result.get_by_role("button", name="查看我的客户").click()
    expect(page).to_have_url(re.compile(r"/h5/customers"))
    cards = page.get_by_role("article", name="陈** 138****5678")
    expect(cards).to_have_count(2)
    expect(cards.first.get_by_text("无效")).to_be_visible()
    expect(cards.nth(1).get_by_text("有效", exact=True)).to_be_visible()
    expect(cards.nth(1).get_by_text("企业客户", exact=False)).to_be_visible()
    screenshot(page, "h5-customers")
    page.get_by_role("tab", name="无效").click()
    expect(cards).to_have_count(1)

    # 我的佣金 comes with the commission module; 邀请好友 gives the broker's own code and link.
    page.get_by_role("navigation", name="主导航").get_by_text("我的").click()
    expect(page.get_by_text("即将上线")).to_be_visible()
    page.get_by_text("邀请好友").click()
    link = page.get_by_role("button", name=re.compile(r"^邀请链接 "))
    expect(link).to_contain_text(re.compile(r"/h5/#/join\?invite=[A-Z2-9]{8}"))
    expect(page.get_by_role("img", name="邀请海报")).to_be_visible()


def test_a_pending_broker_sees_their_state(stack: Stack, projects: dict[str, int],
                                           new_page: Callable[..., Any]) -> None:
    _broker(stack, "daishenhe", status="pending", phone="13700002222")
    page: Page = new_page("phone")
    log_in(page, stack, "daishenhe")
    expect(page).to_have_url(re.compile(r"/h5/state"))
    expect(page.get_by_role("heading", name="账号审核中")).to_be_visible()
    expect(page.get_by_text("链家星河店")).to_be_visible()
    screenshot(page, "h5-pending")
    page.goto(stack.cloud_url + "/h5/refer")
    expect(page).to_have_url(re.compile(r"/h5/state"))


def test_a_broker_reads_their_messages_and_the_badge_goes(
    stack: Stack, projects: dict[str, int], new_page: Callable[..., Any]
) -> None:
    _broker(stack, "xiaoxi", status="active", phone="13700003333")
    with Session(stack.engine) as session:
        user = session.exec(select(User).where(User.username == "xiaoxi")).one()
        for title in ("申诉审核中", "申诉结果：申诉成立"):
            notifications.notify(session, user_id=user.id or 0, kind="appeal", title=title,
                                 body=f"您的报备申诉{title[-4:]}", data={})
        session.commit()
    page: Page = new_page("phone")
    log_in(page, stack, "xiaoxi")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_text("2", exact=True)).to_be_visible()  # the unread badge on 我的
    nav.get_by_text("我的").click()
    page.get_by_text("我的消息").click()
    expect(page.get_by_role("button", name=re.compile("全部已读（2 条未读）"))).to_be_visible()
    page.get_by_text("申诉结果：申诉成立").click()
    expect(page.get_by_text("您的报备申诉申诉成立")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("全部已读（1 条未读）"))).to_be_visible()
    screenshot(page, "h5-messages")
    page.get_by_role("button", name=re.compile("全部已读")).click()
    expect(page.get_by_role("button", name=re.compile("全部已读"))).to_have_count(0)
    page.go_back()
    expect(nav.get_by_text("2", exact=True)).to_have_count(0)
    expect(page.get_by_label("未读消息数")).to_have_count(0)
