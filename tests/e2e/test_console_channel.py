"""The channel manager's console (渠道): publishes a rule version, opens 判客依据 for a
referred customer and runs a what-if of a shorter referral window."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.channel.models import Referral
from cloud.identity.models import User
from shared.timeutil import utcnow
from tests.cloud.channel_world import add_agency, attach_broker
from tests.e2e.conftest import Stack
from tests.e2e.console import (
    CHANNEL_MENUS,
    api,
    expect,
    login,
    make_user,
    menu,
    no_contrast_failures,
    shot,
)

pytestmark = pytest.mark.e2e

PHONE = "13655557788"


def _user_id(stack: Stack, username: str) -> int:
    with Session(stack.engine) as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
    assert user_id is not None
    return user_id


@pytest.fixture(scope="module")
def referral(stack: Stack) -> int:
    """Broker 王五 of 链家星河店 referred PHONE 40 hours ago; he never came."""
    make_user(stack, "qudao", roles=["channel_manager"])
    make_user(stack, "wangwu", roles=["broker"])
    with Session(stack.engine) as session:
        agency = add_agency(session, "链家星河店", created_by=_user_id(stack, "qudao"))
        attach_broker(session, stack.settings, _user_id(stack, "wangwu"), agency=agency,
                      phone="13700001111")
    answer = api(stack, "wangwu", "POST", "/channel/referrals", json={
        "project_id": stack.site.project_id, "phone": PHONE, "name": "赵敏"})
    assert answer.status_code == 201, answer.text
    referral_id: int = answer.json()["id"]
    with Session(stack.engine) as session:
        session.execute(update(Referral).where(col(Referral.id) == referral_id)
                        .values(created_at=utcnow() - timedelta(hours=40)))
        session.commit()
    return referral_id


def test_the_channel_manager_publishes_rules_explains_and_simulates(
    stack: Stack, new_page: Callable[..., Any], referral: int
) -> None:
    page = login(new_page, stack, "qudao")
    # 案场设备 for the sites' positions (ADR 0060), then the channel's pages.
    expect(menu(page)).to_have_text(["案场设备", *CHANNEL_MENUS])
    expect(page).to_have_url(re.compile(r"/console/channel/agencies$"))
    expect(page.get_by_role("row").filter(has_text="链家星河店")).to_be_visible()

    # A new rule version: a longer lead time (防截客), effective now.
    menu(page).filter(has_text="渠道规则").click()
    expect(page.get_by_text("当前生效：v1")).to_be_visible()
    page.get_by_role("button", name="发布新版本").click()
    dialog = page.get_by_role("dialog", name="发布新的渠道规则版本")
    lead = dialog.get_by_label("防截客时间（分钟）")
    lead.fill("45")
    lead.press("Tab")
    shot(page, "console-channel-publish")
    dialog.get_by_role("button", name="发布").click()
    expect(page.get_by_text("已发布规则 v2")).to_be_visible()
    expect(dialog).to_be_hidden()  # settled: axe would measure the closing dialog's fields
    expect(page.get_by_text("当前生效：v2")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="v2").filter(has_text="当前生效")).to_be_visible()
    expect(page.get_by_text("45 分钟").first).to_be_visible()
    no_contrast_failures(page)

    # 判客依据, from the referral list.
    menu(page).filter(has_text="报备记录").click()
    row = page.get_by_role("row").filter(has_text="136****7788")
    expect(row).to_contain_text("报备有效，处于报备保护期")
    row.get_by_role("link", name="判客依据").click()
    expect(page).to_have_url(re.compile(rf"referral={referral}"))
    expect(page.get_by_test_id("owner")).to_contain_text("渠道：测试wangwu（链家星河店）")
    timeline = page.get_by_role("list", name="判客时间线")
    expect(timeline).to_contain_text("测试wangwu（链家星河店） 报备 赵** 136****7788")
    expect(timeline).to_contain_text("规则 v2 生效")
    expect(timeline).to_contain_text("防截客时间：30 分钟 → 45 分钟")
    no_contrast_failures(page)
    shot(page, "console-channel-attribution")
    # The same timeline as an Excel file.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").click()
    download = download_info.value
    assert re.fullmatch(r"判客依据-\d{8}-\d{6}\.xlsx", download.suggested_filename)
    with open(download.path(), "rb") as saved:  # the saved file has no extension
        sheet = load_workbook(saved, read_only=True)["判客依据"]
        described = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "测试wangwu（链家星河店） 报备 赵** 136****7788" in described

    # 规则模拟: a 36-hour referral window would have let this referral lapse.
    menu(page).filter(has_text="规则模拟").click()
    window = page.get_by_label("报备保护期（小时）")
    expect(window).to_have_value("72")
    window.fill("36")
    window.press("Tab")
    page.get_by_role("button", name="运行模拟").click()
    result = page.get_by_test_id("what-if-result")
    changed = result.get_by_role("row").filter(has_text="136****7788")
    expect(changed).to_contain_text("到访逾期")
    expect(changed).to_contain_text("→ 无归属")
    expect(result.get_by_text("会变化的客户")).to_be_visible()
    no_contrast_failures(page)
    shot(page, "console-channel-what-if")

    # Nothing was published by the simulation; both reads were audited.
    versions = api(stack, "qudao", "GET", f"/channel/projects/{stack.site.project_id}/rules")
    assert [v["version"] for v in versions.json()] == [1, 2]
    audit = api(stack, "auditor", "GET", "/audit/logs",
                params={"action": "channel.", "limit": 50}).json()
    actions = {row["action"] for row in audit["items"]}
    assert {"channel.rules_publish", "channel.attribution_view",
            "channel.attribution_export", "channel.rules_what_if"} <= actions


def test_a_consultant_sees_no_channel_pages(stack: Stack, new_page: Callable[..., Any]) -> None:
    page = login(new_page, stack, "wanglei")
    # 销售分析 shows a consultant their own figures (ADR 0045).
    expect(menu(page)).to_have_text(["首页", "到访记录", "客户归属", "轮岗记录", "销售分析",
                                     "销控表", "交易单据"])
    page.goto(stack.cloud_url + "/console/channel/what-if")
    expect(page.get_by_text("无权访问").first).to_be_visible()
