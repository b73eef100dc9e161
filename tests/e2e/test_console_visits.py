"""The console's visit list as HQ uses it: searching by phone (full or masked), consultant
and first/return with the total and page jumps, the masked and audited Excel export, the
customer page with its visit and follow-up timeline, and the viewer's watermark while a
full number is on screen.

25 walk-ins are registered at the edge kiosk and synced, two follow-ups written through
the cloud; the screenshots are the ones docs/manual/console.md shows.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook

from shared.consent import CURRENT_NOTICE_VERSION
from shared.timeutil import utcnow
from tests.e2e.conftest import SITE_NAME, Stack
from tests.e2e.console import api, choose, expect, login, register_walk_ins, shot

pytestmark = pytest.mark.e2e

ZHANG, CHEN = "13812345678", "13800005678"  # the same masked form: 138****5678
WALK_INS: list[tuple[str, str, str | None, str | None]] = [
    (ZHANG, "张伟", "wanglei", "三房，预算 500 万"),
    (CHEN, "陈静", "lina", "改善型四房"),
    *((f"1390000{i:04d}", f"客户{i:02d}", "lina" if i % 3 == 0 else "wanglei", None)
      for i in range(1, 24)),
]
LINAS_VISITS = 1 + len(range(3, 24, 3))
WATERMARK = ".pii-watermark"


@pytest.fixture(scope="module")
def zhang(stack: Stack) -> int:
    """The walk-ins synced, and two follow-ups of 张伟 by 王磊 (the newest not reached)."""
    visits = register_walk_ins(stack, WALK_INS)
    customer_id: int = next(v["customer_id"] for v in visits
                            if v["customer_name_masked"] == "张**")
    for kind, reached, note in (("call", True, "电话回访：周末带家人来看样板间"),
                                ("wechat", False, "微信发了户型图，暂未回复")):
        follow_up_id = str(uuid.uuid4())
        created = api(stack, "wanglei", "POST", "/follow-ups",
                      headers={"Idempotency-Key": follow_up_id},
                      json={"id": follow_up_id, "customer_id": customer_id, "kind": kind,
                            "reached": reached, "note": note,
                            "occurred_at": utcnow().isoformat()})
        assert created.status_code == 201, created.text
    return customer_id


def visit_rows(page: Any) -> Any:
    return page.get_by_role("row").filter(has_text=re.compile(r"1\d\d\*{4}\d{4}"))


def total(page: Any, count: int) -> None:
    expect(page.locator(".el-pagination")).to_contain_text(f"共 {count} 条")


def search(page: Any) -> None:
    page.get_by_role("button", name="查询").click()


def test_search_by_phone_consultant_and_type_and_jump_pages(
    stack: Stack, new_page: Callable[..., Any], zhang: int
) -> None:
    page = login(new_page, stack, "admin", "/console/visits")
    total(page, len(WALK_INS))
    expect(visit_rows(page)).to_have_count(20)
    # Page jump: the kiosk's first walk-ins are the oldest, on page 2.
    page.get_by_label("页", exact=True).fill("2")
    page.get_by_label("页", exact=True).press("Enter")
    expect(visit_rows(page)).to_have_count(len(WALK_INS) - 20)
    expect(page.get_by_label("第 2 页")).to_have_attribute("aria-current", "true")
    expect(visit_rows(page).filter(has_text="三房，预算 500 万")).to_contain_text("张**")

    phone = page.get_by_label("手机号")
    phone.fill("138 1234 5678")
    search(page)
    total(page, 1)
    expect(visit_rows(page)).to_have_count(1)
    expect(visit_rows(page)).to_contain_text("张**")
    expect(page.get_by_label("第 1 页")).to_have_attribute("aria-current", "true")
    # The masked form finds every number with the same first three and last four digits.
    phone.fill("138****5678")
    search(page)
    total(page, 2)
    expect(visit_rows(page).filter(has_text="陈**")).to_have_count(1)
    shot(page, "console-visits-search")

    phone.fill("12345")
    search(page)
    expect(page.get_by_text("手机号码格式不正确")).to_be_visible()

    phone.fill("")
    choose(page, "置业顾问", "李娜")
    choose(page, "类型", "首访")
    search(page)
    total(page, LINAS_VISITS)
    expect(visit_rows(page).filter(has_text="王磊")).to_have_count(0)
    choose(page, "类型", "复访")  # the same day at the same project is the same visit
    search(page)
    expect(page.get_by_text("暂无到访记录")).to_be_visible()
    total(page, 0)

    page.get_by_role("button", name="重置").click()
    total(page, len(WALK_INS))


def test_a_visit_shows_the_consent_the_visitor_gave_at_the_kiosk(
    stack: Stack, new_page: Callable[..., Any], zhang: int
) -> None:
    page = login(new_page, stack, "admin", "/console/visits")
    page.get_by_label("手机号").fill("138 1234 5678")
    search(page)
    total(page, 1)
    visit_rows(page).locator(".el-table__expand-icon").click()
    detail = page.locator(".consent-detail")
    for text in ("同意告知书版本", CURRENT_NOTICE_VERSION, "访客在前台平板点击同意", "同意时间",
                 "登记平板", "127.0.0.1"):
        expect(detail).to_contain_text(text)
    shot(page, "console-visit-consent")


def test_export_downloads_the_filtered_visits_masked_and_audited(
    stack: Stack, new_page: Callable[..., Any], zhang: int
) -> None:
    page = login(new_page, stack, "admin", "/console/visits")
    page.get_by_label("手机号").fill("138****5678")
    search(page)
    total(page, 2)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").click()
    download = download_info.value
    assert re.fullmatch(r"到访记录-\d{8}-\d{6}\.xlsx", download.suggested_filename)
    expect(page.get_by_text("已导出，本次导出已记入审计日志")).to_be_visible()
    with open(download.path(), "rb") as xlsx:
        book = load_workbook(io.BytesIO(xlsx.read()))
    rows = list(book["到访记录"].iter_rows(values_only=True))
    assert rows[0][0] == "到访时间（北京时间）"
    assert sorted(r[4] for r in rows[1:]) == ["张**", "陈**"]
    assert {r[5] for r in rows[1:]} == {"138****5678"}
    assert {r[2] for r in rows[1:]} == {SITE_NAME}
    cells = " ".join(str(c) for sheet in book for r in sheet.iter_rows(values_only=True)
                     for c in r)
    assert ZHANG not in cells and CHEN not in cells

    logs = api(stack, "auditor", "GET", "/audit/logs",
               params={"action": "visit.export", "actor": "admin"}).json()["items"]
    assert logs[0]["detail"]["filters"] == {"phone": "138****5678"}
    assert logs[0]["detail"]["count"] == 2

    # A consultant may search but not export: no button, and the server refuses.
    consultant = login(new_page, stack, "lina", "/console/visits")
    total(consultant, len(WALK_INS))
    expect(consultant.get_by_role("button", name="导出 Excel")).to_be_hidden()
    assert api(stack, "lina", "GET", "/visits/export").status_code == 403


def test_customer_page_timeline_and_the_watermark_while_a_number_shows(
    stack: Stack, new_page: Callable[..., Any], zhang: int
) -> None:
    page = login(new_page, stack, "admin", "/console/visits")
    page.get_by_label("手机号").fill(ZHANG)
    search(page)
    total(page, 1)
    visit_rows(page).get_by_role("link", name="张**").click()

    expect(page).to_have_url(re.compile(rf"/console/customers/{zhang}$"))
    expect(page.get_by_role("heading", name="客户详情")).to_be_visible()
    crumbs = page.get_by_role("navigation", name="面包屑").get_by_role("listitem")
    expect(crumbs).to_have_text(["首页", "到访记录", "客户详情"])
    card = page.locator("[aria-label=客户信息]")  # not the ownership card below it
    for text in ("138****5678", "张**", "王磊", "1 次", SITE_NAME):
        expect(card).to_contain_text(text)
    timeline = page.get_by_role("list", name="到访与跟进记录").get_by_role("listitem")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(0)).to_contain_text("微信跟进")
    expect(timeline.nth(0)).to_contain_text("未联系上")
    expect(timeline.nth(1)).to_contain_text("电话跟进")
    expect(timeline.nth(1)).to_contain_text("有效跟进")
    expect(timeline.nth(1)).to_contain_text("周末带家人来看样板间")
    expect(timeline.nth(2)).to_contain_text("首次到访")
    expect(timeline.nth(2)).to_contain_text("三房，预算 500 万")
    expect(timeline.nth(2)).to_contain_text("接待：王磊")
    expect(page.locator(WATERMARK)).to_have_count(0)
    shot(page, "console-customer")

    page.get_by_role("button", name="查看号码").click()
    dialog = page.get_by_role("dialog", name="查看客户号码")
    dialog.get_by_label("查看原因").fill("回访客户，确认到访意向")
    dialog.get_by_role("button", name="确认查看").click()
    expect(dialog.get_by_text(ZHANG)).to_be_visible()
    # The viewer's name now covers the screen, drawn (a PNG) and not in the way of clicks.
    watermark = page.locator(WATERMARK)
    expect(watermark).to_have_attribute("data-viewer", "总部管理员（admin）")
    expect(watermark.locator("div")).to_have_attribute(
        "style", re.compile(r"background-image: url\(['\"]?data:image/png"))
    assert watermark.evaluate("e => getComputedStyle(e).pointerEvents") == "none"
    shot(page, "console-watermark")
    dialog.get_by_role("button", name="关闭", exact=True).click()
    expect(card).to_contain_text(ZHANG)
    expect(watermark).to_have_count(1)

    # Back to the list by the breadcrumb: filters kept, the number (and watermark) gone.
    page.get_by_role("navigation", name="面包屑").get_by_role("link", name="到访记录").click()
    expect(page).to_have_url(re.compile(r"/console/visits$"))
    expect(page.get_by_label("手机号")).to_have_value(ZHANG)
    total(page, 1)
    expect(page.locator(WATERMARK)).to_have_count(0)
    expect(page.get_by_text(ZHANG)).to_have_count(0)
    # Unmasking in the list shows the watermark there too.
    visit_rows(page).get_by_role("button", name="查看号码").click()
    dialog = page.get_by_role("dialog", name="查看客户号码")
    dialog.get_by_label("查看原因").fill("核实客户身份")
    dialog.get_by_role("button", name="确认查看").click()
    dialog.get_by_role("button", name="关闭", exact=True).click()
    expect(page.get_by_role("row").filter(has_text=ZHANG)).to_have_count(1)
    expect(page.locator(WATERMARK)).to_have_attribute("data-viewer", "总部管理员（admin）")


def test_from_the_customer_to_their_visits_and_who_may_open_customers(
    stack: Stack, new_page: Callable[..., Any], zhang: int
) -> None:
    page = login(new_page, stack, "wanglei", f"/console/customers/{zhang}")
    page.get_by_role("link", name="在到访记录中查看").click()
    expect(page).to_have_url(re.compile(rf"/console/visits\?customer_id={zhang}"))
    customer_tag = page.locator(".el-form-item").filter(has_text="客户").locator(".el-tag")
    expect(customer_tag).to_have_text("138****5678")
    total(page, 1)
    customer_tag.locator(".el-tag__close").click()
    total(page, len(WALK_INS))
    expect(page).to_have_url(re.compile(r"/console/visits$"))

    # The receptionist reads visits but not customers: names are plain text, no page.
    reception = login(new_page, stack, "qiantai", "/console/visits")
    total(reception, len(WALK_INS))
    expect(reception.get_by_role("link", name="张**")).to_have_count(0)
    reception.goto(f"{stack.cloud_url}/console/customers/{zhang}")
    expect(reception.get_by_text("没有权限访问此页面")).to_be_visible()
