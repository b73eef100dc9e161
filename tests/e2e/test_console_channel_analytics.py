"""渠道业绩 and 多维查询 in the console: the funnel, trend and ranking charts render over
real referrals, the query groups them by agency and state, and the export downloads."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from cloud.identity.models import User
from tests.cloud.channel_world import add_agency, attach_broker
from tests.e2e.conftest import Stack
from tests.e2e.console import api, expect, login, make_user, menu, shot

pytestmark = pytest.mark.e2e

AGENCY = "业绩测试渠道"


def _user_id(stack: Stack, username: str) -> int:
    with Session(stack.engine) as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
    assert user_id is not None
    return user_id


def _refer(stack: Stack, broker: str, phone: str) -> str:
    answer = api(stack, broker, "POST", "/channel/referrals", json={
        "project_id": stack.site.project_id, "phone": phone, "name": "孙丽"})
    assert answer.status_code == 201, answer.text
    state: str = answer.json()["state"]
    return state


def test_performance_charts_and_a_query_with_its_export(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, "qd.perf", roles=["channel_manager"])
    for username in ("perf.broker1", "perf.broker2"):
        make_user(stack, username, roles=["broker"])
    with Session(stack.engine) as session:
        agency = add_agency(session, AGENCY, created_by=_user_id(stack, "qd.perf"))
        for n, username in enumerate(("perf.broker1", "perf.broker2")):
            attach_broker(session, stack.settings, _user_id(stack, username), agency=agency,
                          phone=f"1370000101{n}")
    # Two customers referred; the second broker's referral of the first is refused.
    assert _refer(stack, "perf.broker1", "13655550101") == "confirmed"
    assert _refer(stack, "perf.broker1", "13655550102") == "confirmed"
    assert _refer(stack, "perf.broker2", "13655550101") == "invalid"

    page = login(new_page, stack, "qd.perf")
    menu(page).filter(has_text="渠道业绩").click()
    for chart in ("渠道转化漏斗图", "报备趋势图", "渠道公司排行图", "经纪人排行图"):
        expect(page.locator(f"[aria-label={chart}][data-rendered=true]")).to_be_visible()
    expect(page.get_by_text("认购数据待成交模块接入后统计")).to_be_visible()
    expect(page.locator("[data-stage=subscribed] .count")).to_have_text("待接入")
    row = page.locator(".groups").get_by_role("row").filter(has_text=AGENCY)
    expect(row.get_by_role("cell")).to_have_text([AGENCY, "3", "2", "0", "0", "—", "0.0%"])
    shot(page, "console-channel-performance")
    page.locator("[data-subject=consultant]").scroll_into_view_if_needed()
    shot(page, "console-channel-rankings")

    menu(page).filter(has_text="多维查询").click()
    dimensions = page.get_by_role("combobox", name="维度")
    dimensions.fill("报备状态")
    page.get_by_role("option", name="报备状态", exact=True).click()
    # Close the list as a user does: a click outside it.
    page.get_by_text("日期为北京时间的报备日期").click()
    expect(page.get_by_role("option", name="报备状态", exact=True)).to_be_hidden()
    page.get_by_role("button", name="查询", exact=True).click()
    table = page.locator(".result")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["渠道公司", "报备状态", "报备数", "有效报备", "到访", "判客有效", "转化率"])
    refused = table.get_by_role("row").filter(has_text=AGENCY).filter(has_text="无效")
    expect(refused.get_by_role("cell")).to_have_text([AGENCY, "无效", "1", "0", "0", "0", "0.0%"])
    shot(page, "console-channel-query")

    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(book["多维查询"].iter_rows(values_only=True))
    assert rows[0] == ("渠道公司", "报备状态", "报备数", "有效报备", "到访", "判客有效", "转化率")
    assert (AGENCY, "有效", 2, 2, 0, 0, 0) in rows and (AGENCY, "无效", 1, 0, 0, 0, 0) in rows

    # Saved: the query kept under a name, the page reloaded to the default query, the
    # saved one picked again: the same columns come back.
    page.get_by_role("button", name="保存查询").click()
    page.get_by_role("dialog", name="保存查询").get_by_role("textbox").fill("按状态看渠道")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已保存「按状态看渠道」")).to_be_visible()
    page.reload()
    expect(table.get_by_role("columnheader")).not_to_have_text(
        ["渠道公司", "报备状态", "报备数", "有效报备", "到访", "判客有效", "转化率"])
    page.get_by_role("combobox", name="已保存的查询").click()
    page.get_by_role("option", name="按状态看渠道").click()
    expect(table.get_by_role("columnheader")).to_have_text(
        ["渠道公司", "报备状态", "报备数", "有效报备", "到访", "判客有效", "转化率"])
    expect(refused.get_by_role("cell")).to_have_text([AGENCY, "无效", "1", "0", "0", "0", "0.0%"])
