"""The consultant PWA (案场顾问) in a phone-sized Chromium against the whole running stack:
login through the edge, today's visitors, a follow-up written offline that waits on the
phone (待同步) and reaches the cloud exactly once when the network returns; the app
reopening offline from its service worker; the cloud fallback when the edge is out of
reach. Screenshots go to docs/manual/images/ for docs/manual/pwa.md."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from cloud.sales.models import FollowUp
from tests.e2e.conftest import PASSWORD, Stack, screenshot
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e


def follow_ups(stack: Stack) -> list[FollowUp]:
    with Session(stack.engine) as session:
        return list(session.exec(select(FollowUp)).all())


def register_visitor(stack: Stack, phone: str, name: str) -> str:
    response = stack.edge.register({
        "project_id": stack.site.project_id, "phone": phone, "name": name, "party_size": 3,
        "intent": "三房，预算 500 万", "consultant_id": stack.user_ids["wanglei"],
    })
    assert response.status_code == 201, response.text
    visit_id: str = response.json()["id"]
    return visit_id


def log_in(page: Page, stack: Stack, *, shot: str | None = None) -> None:
    page.goto(stack.edge_url + "/pwa/")
    expect(page).to_have_url(stack.edge_url + "/pwa/login")
    expect(page.get_by_role("heading", name="案场顾问")).to_be_visible()
    page.get_by_label("用户名").fill("wanglei")
    page.get_by_label("密码").fill(PASSWORD)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("region", name="今日我的来访")).to_be_visible()


def settled(page: Page) -> None:
    """CSS transitions (Vant's radios fade) finished, so the picture shows the end state."""
    page.wait_for_function(
        "document.getAnimations().every(a => a.playState !== 'running')")


def wait_for_service_worker(page: Page) -> None:
    """Installed (everything precached), activated, and controlling this page."""
    state = page.evaluate("""() => navigator.serviceWorker.ready.then(r => r.active.state)""")
    assert state in ("activating", "activated")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "navigator.serviceWorker.controller.state === 'activated'")


def test_a_follow_up_written_offline_reaches_the_cloud_once(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    visit_id = register_visitor(stack, "13812345678", "陈大文")
    page: Page = new_page("phone")
    log_in(page, stack, shot="pwa-login")

    visitor = page.get_by_role("article", name="138****5678")
    expect(visitor).to_be_visible()
    expect(visitor.get_by_text("陈**")).to_be_visible()
    expect(visitor.get_by_text("首访")).to_be_visible()
    expect(visitor.get_by_text("未跟进")).to_be_visible()
    screenshot(page, "pwa-today")

    wait_for_service_worker(page)
    page.context.set_offline(True)
    expect(page.get_by_role("status").get_by_text("网络已断开")).to_be_visible()

    visitor.get_by_role("button", name="写跟进").click()
    expect(page.get_by_text("陈** 138****5678")).to_be_visible()
    page.get_by_role("radio", name="面谈").click()
    expect(page.get_by_role("switch", name="联系上客户")).to_have_attribute("aria-checked",
                                                                          "true")
    page.get_by_label("跟进内容").fill("客户关心学区和交房时间，周六带家人来看样板间")
    page.get_by_role("radio", name="3天后").click()
    settled(page)
    screenshot(page, "pwa-followup")
    page.get_by_role("button", name="保存跟进").click()

    queued = page.get_by_role("region", name="待同步")
    expect(queued.get_by_text("1 条待同步")).to_be_visible()
    expect(queued.get_by_text("陈** 138****5678")).to_be_visible()
    expect(queued.get_by_text("待同步", exact=True)).to_be_visible()
    expect(queued.get_by_text("网络已断开，恢复后自动同步")).to_be_visible()
    expect(page.get_by_text("已保存到手机")).to_be_hidden()  # the toast, before the picture
    screenshot(page, "pwa-offline-queue")
    assert follow_ups(stack) == []

    # The app itself reopens with no network: served by the service worker, the queue
    # read back from IndexedDB.
    page.reload()
    expect(page.get_by_role("region", name="待同步").get_by_text("1 条待同步")).to_be_visible()

    page.context.set_offline(False)  # `online` → the queue flushes to the edge
    synced = page.get_by_role("region", name="最近已同步")
    expect(synced.get_by_text("已同步·案场")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("region", name="待同步").get_by_text("全部已同步")).to_be_visible()
    screenshot(page, "pwa-synced")

    wait_for(lambda: len(follow_ups(stack)) == 1, timeout=30,
             what="the follow-up in the cloud database")
    [row] = follow_ups(stack)
    assert row.recorded_via == "edge" and row.visit_id == visit_id
    assert row.consultant_id == stack.user_ids["wanglei"]
    assert row.kind == "meeting" and row.reached and row.effective
    assert row.next_at is not None and "学区" in row.note

    page.get_by_role("tab", name="今日来访").click()
    expect(page.get_by_role("article", name="138****5678").get_by_text("已跟进 1 次")
           ).to_be_visible()
    assert len(follow_ups(stack)) == 1


def test_with_the_edge_out_of_reach_the_phone_writes_to_the_cloud(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    visit_id = register_visitor(stack, "13900007777", "林晓")
    wait_for(lambda: any(True for _ in _cloud_visits(stack, visit_id)), timeout=30,
             what="the visit synced to the cloud")
    page: Page = new_page("phone")
    log_in(page, stack)
    visitor = page.get_by_role("article", name="139****7777")
    expect(visitor).to_be_visible()

    # The office LAN is gone (the phone is on 4G): nothing reaches the edge any more.
    page.context.route("**/api/v1/staff/**", lambda route: route.abort("connectionrefused"))
    before = {f.id for f in follow_ups(stack)}
    visitor.get_by_role("button", name="写跟进").click()
    page.get_by_role("radio", name="电话").click()
    page.get_by_role("switch", name="联系上客户").click()  # not answered: not effective
    page.get_by_label("跟进内容").fill("电话未接通，稍后再打")
    page.get_by_role("radio", name="明天").click()
    page.get_by_role("button", name="保存跟进").click()

    expect(page.get_by_role("region", name="最近已同步").get_by_text("已同步·云端")
           ).to_be_visible(timeout=15_000)
    [row] = [f for f in follow_ups(stack) if f.id not in before]
    assert row.recorded_via == "cloud" and row.visit_id == visit_id
    assert row.reached is False and row.effective is False
    uuid.UUID(row.id)  # the phone's id is the row's key


def _cloud_visits(stack: Stack, visit_id: str) -> list[Any]:
    from cloud.sales.models import Visit

    with Session(stack.engine) as session:
        return list(session.exec(select(Visit).where(Visit.id == visit_id)).all())
