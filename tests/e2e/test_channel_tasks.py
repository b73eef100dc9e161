"""Prospecting tasks (拓客任务) in Chromium: a channel manager creates a task for two
brokers in the console and its detail shows the counted completion and the leaderboard;
one of the brokers opens 我的任务 in the H5 on a phone and sees their rank, the other
broker's name masked. Screenshots go to docs/manual/images/."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from cloud.channel.models import Agency, Broker, Referral
from cloud.identity import service as identity_service
from shared.timeutil import shanghai_date, utcnow
from tests.cloud.channel_world import add_agency, attach_broker
from tests.e2e.conftest import PASSWORD, Stack, screenshot
from tests.e2e.console import api, expect, login, make_user, menu, shot

pytestmark = pytest.mark.e2e


def _broker(stack: Stack, session: Session, username: str, name: str, agency_id: int,
            phone: str) -> Broker:
    user = identity_service.create_user(
        session, username=username, password=PASSWORD, display_name=name, roles=["broker"],
        site_ids=[], scope_all=False, must_change_password=False, actor="e2e")
    session.commit()
    assert user.id is not None
    agency = session.get_one(Agency, agency_id)
    return attach_broker(session, stack.settings, user.id, agency=agency, phone=phone)


@pytest.fixture(scope="module")
def brokers(stack: Stack) -> dict[str, int]:
    """张三丰 (one referral today) and 李四 (three) of 链家星河店; the channel manager 渠道小王."""
    make_user(stack, "xiaowang", roles=["channel_manager"])
    with Session(stack.engine) as session:
        agency = add_agency(session, "链家星河店", created_by=stack.user_ids["admin"])
        ids: dict[str, int] = {}
        for username, name, phone, referred in (("zhangsan", "张三丰", "13700003333", 1),
                                                ("lisi", "李四", "13700004444", 3)):
            broker = _broker(stack, session, username, name, agency.id or 0, phone)
            ids[username] = broker.id or 0
            for n in range(referred):
                at = utcnow() - timedelta(minutes=10 + n)
                session.add(Referral(
                    project_id=stack.site.project_id, broker_id=broker.id or 0,
                    agency_id=agency.id, name_enc="-", phone_masked="138****0000",
                    state="confirmed", reason_code="ok", rule_version=1,
                    idempotency_key=uuid.uuid4().hex, created_at=at, decided_at=at))
        session.commit()
    return ids


def test_a_channel_manager_creates_a_task_and_reads_its_leaderboard(
    stack: Stack, brokers: dict[str, int], new_page: Callable[..., Any]
) -> None:
    page = login(new_page, stack, "xiaowang")
    menu(page).filter(has_text="拓客任务").click()
    expect(page.get_by_text("暂无拓客任务")).to_be_visible()
    page.get_by_role("button", name="新建任务").click()
    dialog = page.get_by_role("dialog", name="新建拓客任务")
    # Saving an empty form says what is missing, in Chinese.
    dialog.get_by_role("button", name="保存").click()
    expect(dialog.get_by_text("请填写任务名称")).to_be_visible()
    expect(dialog.get_by_text("请选择项目")).to_be_visible()

    dialog.get_by_label("任务名称").fill("双周报备冲刺")
    dialog.get_by_role("combobox", name="项目").click(force=True)
    page.get_by_role("option", name="星河湾一期").click()
    # Close the option list on the field's label: exact, since the form's error
    # "请填写任务名称" may still be fading out (Element Plus leaves it in the DOM then).
    dialog.get_by_text("任务名称", exact=True).click()
    today = shanghai_date(utcnow())
    dialog.get_by_placeholder("开始日期（北京时间）").fill(today.isoformat())
    dialog.get_by_placeholder("开始日期（北京时间）").press("Enter")
    dialog.get_by_placeholder("结束日期（含当天）").fill((today + timedelta(days=13)).isoformat())
    dialog.get_by_placeholder("结束日期（含当天）").press("Enter")
    target = dialog.get_by_role("spinbutton", name="目标")
    target.fill("4")
    target.press("Tab")
    dialog.get_by_role("radio", name="指定经纪人").click(force=True)
    chooser = dialog.get_by_role("combobox", name="指派对象")
    for name in ("张三丰", "李四"):
        chooser.click(force=True)
        page.get_by_role("option", name=re.compile(f"^{name} ")).click()
    dialog.get_by_text("任务名称").click()
    shot(page, "console-channel-task-form")
    dialog.get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(r"/console/channel/tasks/\d+$"))
    expect(page.get_by_role("heading", name=re.compile("双周报备冲刺"))).to_be_visible()
    board = page.locator(".leaderboard").get_by_role("row")
    expect(board.nth(1)).to_contain_text("1李四375%")
    expect(board.nth(2)).to_contain_text("2张三丰125%")
    expect(page.get_by_label("总完成率")).to_contain_text("4 / 8 · 50%")
    expect(page.get_by_role("img", name="排行榜图")).to_have_attribute("data-rendered", "true")
    page.get_by_role("button", name="发布").click()
    confirm = page.get_by_role("dialog", name="发布任务")
    confirm.get_by_role("button", name="发布").click()
    expect(page.get_by_text("进行中")).to_be_visible()
    shot(page, "console-channel-task-detail")

    [listed] = api(stack, "xiaowang", "GET", "/channel/prospecting-tasks").json()
    assert (listed["status"], listed["total_count"], listed["rate"]) == ("published", 4, 0.5)
    menu(page).filter(has_text="拓客任务").click()
    row = page.get_by_role("row").filter(has_text="双周报备冲刺")
    expect(row.get_by_label("完成率 50%")).to_be_visible()
    shot(page, "console-channel-tasks")


def test_a_broker_reads_my_tasks_on_the_phone(
    stack: Stack, brokers: dict[str, int], new_page: Callable[..., Any]
) -> None:
    today = shanghai_date(utcnow())
    made = api(stack, "xiaowang", "POST", "/channel/prospecting-tasks", json={
        "title": "本周带客冲刺", "metric": "referrals", "project_ids": [stack.site.project_id],
        "start_date": today.isoformat(), "end_date": (today + timedelta(days=6)).isoformat(),
        "target": 2, "assign_mode": "brokers",
        "assignees": [{"id": brokers["zhangsan"]}, {"id": brokers["lisi"]}]})
    assert made.status_code == 201, made.text
    published = api(stack, "xiaowang", "PATCH", f"/channel/prospecting-tasks/{made.json()['id']}",
                    json={"status": "published"})
    assert published.status_code == 200, published.text

    page: Page = new_page("phone")
    page.goto(stack.cloud_url + "/h5/")
    page.get_by_role("tab", name="密码登录").click()
    page.get_by_label("用户名", exact=True).fill("zhangsan")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("navigation", name="主导航").get_by_text("我的").click()
    page.get_by_text("我的任务").click()
    card = page.get_by_role("link", name="本周带客冲刺")
    expect(card).to_be_visible()
    expect(card.get_by_text("我完成 1 / 2")).to_be_visible()
    expect(card.get_by_text("第 2 名（共 2）")).to_be_visible()
    screenshot(page, "h5-tasks")
    card.click()
    rows = page.get_by_role("listitem")
    expect(rows.nth(0)).to_contain_text("1. 李**")
    expect(rows.nth(1)).to_contain_text("2. 张三丰（我）")
    expect(page.get_by_text("李四")).to_have_count(0)
    screenshot(page, "h5-task-leaderboard")
