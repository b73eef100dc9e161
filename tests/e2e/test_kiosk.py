"""The kiosk tablet end to end: consent, a walk-in registered through the UI reaching the
cloud exactly once, live phone validation, the reception rota board, and the status bar
when the cloud (the broker) or the edge itself is unreachable.

Runs against the real stack (cloud + edge processes, Mosquitto, PostgreSQL) in Debian's
Chromium; the screenshots are the ones docs/manual/kiosk.md shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, func, select

from cloud.sales.models import Visit as CloudVisit
from shared.timeutil import utcnow
from tests.e2e.conftest import SITE_ID, Stack, beijing_minutes, screenshot
from tests.e2e.kiosk import accept_notice, open_kiosk, rota
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e

expect: Any = None  # playwright's, imported lazily (the browser fixture skips without it)
PHONE_TYPED = "138-1234-5678"
PHONE_MASKED = "138****5678"
INVALID_PHONE_MESSAGE = "手机号码格式不正确，请输入11位中国大陆手机号"
OFFLINE_MESSAGE = "云端连接中断，登记照常保存，恢复后自动同步"
USERNAMES = {"王磊": "wanglei", "李娜": "lina"}


@pytest.fixture(autouse=True)
def _expect(browser: Any) -> None:
    global expect
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=10_000)
    expect = playwright_expect


def cloud_visit_ids(stack: Stack) -> list[str]:
    with Session(stack.engine) as session:
        rows = session.exec(select(CloudVisit.id).where(CloudVisit.site_id == SITE_ID)).all()
    return sorted(rows)


def cloud_visits(stack: Stack) -> int:
    with Session(stack.engine) as session:
        count = session.exec(
            select(func.count()).select_from(CloudVisit).where(CloudVisit.site_id == SITE_ID)
        ).one()
    return int(count)


def backlog(stack: Stack) -> int:
    return int(stack.edge.get("/api/v1/kiosk/status").json()["backlog"])


def queue_names(page: Any) -> Any:
    return page.get_by_role("list", name="接待队列").get_by_role("listitem").locator("strong")


def test_a_walk_in_registered_after_consent_reaches_the_cloud_exactly_once(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    rota(stack, "check-in", "wanglei")
    rota(stack, "check-in", "lina")
    page = open_kiosk(new_page, stack)
    expect(page).not_to_have_url(re.compile(r"token="))  # taken out of the address bar
    expect(page.get_by_text("不刷脸也能登记")).to_be_visible()
    expect(page.get_by_text("云端已连接")).to_be_visible()
    screenshot(page, "kiosk-consent")

    accept_notice(page)
    phone = page.get_by_label("手机号")
    phone.press_sequentially(PHONE_TYPED, delay=30)
    hint = page.get_by_test_id("customer-hint")
    expect(hint).to_contain_text("首访")
    expect(hint).to_contain_text("新客户")
    # the head of the queue receives by default
    expect(page.get_by_role("radio", name="王磊")).to_have_attribute("aria-checked", "true")
    expect(page.locator(".next-name")).to_have_text("王磊")
    page.get_by_label("姓名").fill("陈先生")
    page.get_by_role("spinbutton").fill("3")
    page.get_by_role("button", name="三房").click()
    page.get_by_role("button", name="改善").click()
    page.get_by_label("意向备注").fill("预算 300 万")
    page.get_by_label("手机号").focus()
    screenshot(page, "kiosk-register")
    consent = page.evaluate("JSON.parse(localStorage.getItem('anchang.kiosk.consent'))")
    assert consent["version"] == "2026-11-v1" and consent["acceptedAt"].endswith("Z")

    registered_at = utcnow()
    page.get_by_role("button", name="提交登记").dblclick()  # a double tap
    expect(page.get_by_role("heading", name="首访登记成功")).to_be_visible()
    result = page.get_by_role("status")
    expect(result).to_contain_text(PHONE_MASKED)
    expect(result).to_contain_text("陈**")
    expect(result).to_contain_text("3 人")
    screenshot(page, "kiosk-result")

    # a new customer consumed 王磊's turn: 李娜 is next now
    board = stack.edge.get("/api/v1/kiosk/rota/board").json()
    assert board["next_consultant_id"] == stack.user_ids["lina"]
    (visit,) = [v for v in stack.edge.get("/api/v1/kiosk/visits").json()
                if v["phone_masked"] == PHONE_MASKED]
    wait_for(lambda: cloud_visit_ids(stack) == [visit["id"]], timeout=30,
             what="the visit in the cloud")
    # the consent the visitor gave on this tablet travelled with the visit
    with Session(stack.engine) as session:
        stored = session.get(CloudVisit, visit["id"])
    assert stored is not None and stored.consent_notice_version == consent["version"]
    assert stored.consent_method == "kiosk_screen" and stored.consent_tablet

    # two more walk-ins (registered by another tablet) fill today's list
    for phone, name, size, who, source in [("139-0000-1111", "周女士", 2, "lina", "channel"),
                                           ("137 2222 3333", None, 1, "wanglei", "natural")]:
        other = stack.edge.register({"project_id": stack.site.project_id, "phone": phone,
                                     "name": name, "party_size": size, "source": source,
                                     "consultant_id": stack.user_ids[who]})
        assert other.status_code == 201, other.text
    page.get_by_role("button", name="查看今日到访").click()
    # this visitor is served: their consent is over, the device keeps its token
    assert page.evaluate("localStorage.getItem('anchang.kiosk.consent')") is None
    assert page.evaluate("JSON.parse(localStorage.getItem('anchang.kiosk.token'))") == \
        stack.edge.token
    row = page.get_by_role("row").filter(has_text=PHONE_MASKED)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("首访")
    expect(row).to_contain_text("王磊")
    expect(row).to_contain_text(beijing_minutes(registered_at, "%H:%M"))  # not UTC's
    expect(page.get_by_role("row")).to_have_count(4)  # the header and three visits
    wait_for(lambda: backlog(stack) == 0, timeout=30, what="the edge outbox to drain")
    expect(page.get_by_text("待同步")).to_have_count(0, timeout=20_000)
    expect(row).to_contain_text("已同步")
    screenshot(page, "kiosk-visits")
    # the double tap made one visit, and the cloud holds each visit exactly once
    assert len(cloud_visit_ids(stack)) == 3 and visit["id"] in cloud_visit_ids(stack)

    # the next visitor starts with the notice again
    page.get_by_role("link", name="来访登记").click()
    expect(page.get_by_role("heading", name="个人信息与摄像头使用告知")).to_be_visible()


def test_an_invalid_phone_shows_the_chinese_message_and_cannot_be_submitted(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    page = open_kiosk(new_page, stack)
    accept_notice(page)
    submit = page.get_by_role("button", name="提交登记")
    phone = page.get_by_label("手机号")
    phone.press_sequentially("123-4567-8901", delay=20)
    expect(page.get_by_text(INVALID_PHONE_MESSAGE)).to_be_visible()
    expect(submit).to_be_disabled()
    phone.fill("")
    phone.press_sequentially("138 1234", delay=20)  # incomplete: a hint, then an error on leaving
    expect(page.get_by_text("还需输入 4 位")).to_be_visible()
    page.get_by_label("姓名").click()
    expect(page.get_by_text(INVALID_PHONE_MESSAGE)).to_be_visible()
    expect(submit).to_be_disabled()
    phone.fill("+86 139 0000 1234")
    expect(page.get_by_text(INVALID_PHONE_MESSAGE)).to_have_count(0)
    expect(submit).to_be_enabled()


def test_declining_the_notice_hides_the_form_but_not_the_board(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    page = open_kiosk(new_page, stack)
    page.get_by_role("button", name="不同意").click()
    declined = page.get_by_role("heading", name="您未同意告知内容")
    expect(declined).to_be_visible()
    page.get_by_role("link", name="来访登记").click()
    expect(declined).to_be_visible()
    page.goto(f"{stack.edge_url}/kiosk/register")  # straight to the form: the notice again
    expect(page.get_by_role("heading", name="个人信息与摄像头使用告知")).to_be_visible()
    expect(page.get_by_label("手机号")).to_have_count(0)
    page.get_by_role("button", name="不同意").click()
    page.get_by_role("button", name="查看顾问上岗看板").click()
    expect(page.get_by_role("heading", name="接待队列")).to_be_visible()
    expect(page.get_by_label("手机号")).to_have_count(0)


def test_check_in_and_out_on_the_board_change_the_order(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    rota(stack, "check-in", "wanglei")
    rota(stack, "check-in", "lina")
    page = open_kiosk(new_page, stack, "/board")
    expect(page.get_by_text("云端已连接")).to_be_visible()
    expect(page.get_by_text("星河湾一期 · 前台接待")).to_be_visible()
    names = queue_names(page)
    expect(names).to_have_count(2)
    head, second = names.all_inner_texts()
    page.get_by_role("button", name=f"{head} 下岗").click()
    page.get_by_role("dialog").get_by_role("button", name="确认下岗").click()
    expect(names).to_have_text([second])
    page.get_by_role("button", name=f"{head} 上岗").click()
    expect(names).to_have_text([second, head])  # back on duty at the tail
    log = page.get_by_role("list", name="今日轮岗记录")
    expect(log.get_by_role("listitem").first).to_contain_text(f"{head} 上岗")
    expect(log).to_contain_text("下岗，离开接待队列")
    expect(page.locator(".duty.head")).to_contain_text("下一位接待")
    screenshot(page, "kiosk-board")
    # the board refreshes by itself: a change made elsewhere shows within seconds
    rota(stack, "check-out", USERNAMES[second])
    expect(names).to_have_text([head])
    rota(stack, "check-in", USERNAMES[second])
    expect(names).to_have_text([head, second])


def test_away_for_lunch_keeps_the_head_and_back_receives_next(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    rota(stack, "check-in", "wanglei")
    rota(stack, "check-in", "lina")
    page = open_kiosk(new_page, stack, "/board")
    names = queue_names(page)
    expect(names).to_have_count(2)
    head, second = names.all_inner_texts()
    page.get_by_role("button", name=f"{head} 离开").click()
    page.get_by_role("button", name="午餐").click()
    expect(names).to_have_text([head, second])  # 补接: the place is kept
    expect(page.locator(".duty.head")).to_contain_text(second)
    expect(page.locator(".duty").first).to_contain_text("午餐（补接）")
    page.get_by_role("button", name=f"{head} 回岗").click()
    expect(page.locator(".duty.head")).to_contain_text(head)
    log = page.get_by_role("list", name="今日轮岗记录")
    expect(log.get_by_role("listitem").first).to_contain_text(f"{head} 回岗")
    expect(log).to_contain_text("离开：午餐，保留排位，回岗后补接")
    page.get_by_role("button", name=f"{second} 离开").click()
    page.get_by_role("button", name="休息").click()
    expect(names).to_have_text([head, second])  # already behind: the tail is the same


def test_the_status_bar_says_when_the_cloud_or_the_edge_is_unreachable(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    assert stack.broker is not None
    # Off duty, so the registration uses no turn: one event waits, the visit's own.
    rota(stack, "check-out", "lina")
    wait_for(lambda: stack.edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
             timeout=30, what="the rota change synced")
    page = open_kiosk(new_page, stack, "/visits")
    expect(page.get_by_text("云端已连接")).to_be_visible()
    before = cloud_visits(stack)
    stack.broker.stop()
    try:
        expect(page.get_by_text(OFFLINE_MESSAGE)).to_be_visible(timeout=30_000)
        registered = stack.edge.register({"project_id": stack.site.project_id,
                                          "phone": "139 1234 0000", "name": "林女士",
                                          "party_size": 2, "consultant_id":
                                          stack.user_ids["lina"]})
        assert registered.status_code == 201, registered.text
        expect(page.get_by_role("status")).to_contain_text("待同步 1 条")
        row = page.get_by_role("row").filter(has_text="139****0000")
        expect(row).to_contain_text("待同步")
        screenshot(page, "kiosk-offline")
        assert cloud_visits(stack) == before
    finally:
        stack.broker.start()
    expect(page.get_by_text(OFFLINE_MESSAGE)).to_have_count(0, timeout=30_000)
    wait_for(lambda: cloud_visits(stack) == before + 1, timeout=30, what="the offline visit")
    expect(row).to_contain_text("已同步", timeout=20_000)

    # the edge agent itself unreachable (LAN down): a different, red message
    page.route("**/api/v1/**", lambda route: route.abort())
    expect(page.get_by_role("alert")).to_contain_text("无法连接案场服务器", timeout=15_000)
    page.unroute("**/api/v1/**")
    expect(page.get_by_role("alert")).to_have_count(0, timeout=15_000)


@pytest.mark.parametrize(("report", "pill", "banner"), [
    ({"cloud_link": "stalled"}, "云端同步停滞", "同步暂时没有进展"),
    ({"cloud_link": "refused"}, "云端拒收本设备数据", "请联系管理员在云端处理"),
    ({"storage_full": True}, "存储空间已满", "新的登记无法保存"),
])
def test_the_status_bar_names_what_the_agent_reports(
    stack: Stack, new_page: Callable[..., Any], report: dict[str, Any], pill: str, banner: str,
) -> None:
    """The kiosk's wording for each state the agent reports in /kiosk/status (the states
    themselves are tested against the real agent in tests/edge and tests/integration)."""
    page = open_kiosk(new_page, stack, "/visits")
    expect(page.get_by_text("云端已连接")).to_be_visible()

    def reported(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), **report})

    page.route("**/api/v1/kiosk/status", reported)
    expect(page.get_by_test_id("link-pill")).to_contain_text(pill, timeout=15_000)
    expect(page.get_by_text(banner)).to_be_visible()
