"""The consultant PWA (案场顾问) in a phone-sized Chromium against the whole running stack:
login through the edge, today's visitors, a follow-up written offline that waits on the
phone (待同步) and reaches the cloud exactly once when the network returns; the app
reopening offline from its service worker; the cloud fallback when the edge is out of
reach. Screenshots go to docs/manual/images/ for docs/manual/pwa.md."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.sales.free_text import note_of
from cloud.sales.models import Customer, FollowUp
from cloud.sales.service import NAME_CONTEXT, PHONE_CONTEXT
from cloud.sync import feed
from shared.phone import mask_phone
from shared.timeutil import utcnow
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
    """CSS transitions (Vant's radios fade) finished, so the picture shows the end state.
    (page.evaluate, not wait_for_function: the app's CSP forbids the eval the latter uses.)"""
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished))")


def wait_for_service_worker(page: Page) -> None:
    """Installed (everything precached), activated, and controlling this page."""
    state = page.evaluate("""() => navigator.serviceWorker.ready.then(r => r.active.state)""")
    assert state in ("activating", "activated")
    page.evaluate("""() => navigator.serviceWorker.controller || new Promise((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', resolve, {once: true}))""")
    page.evaluate("""() => {
        const worker = navigator.serviceWorker.controller
        return worker.state === 'activated' || new Promise((resolve) =>
            worker.addEventListener('statechange', () => {
                if (worker.state === 'activated') resolve(true)
            }))
    }""")


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
    reached = page.get_by_role("switch", name="联系上客户")
    expect(reached).to_have_attribute("aria-checked", "false")  # effective only when said so
    reached.click()
    expect(reached).to_have_attribute("aria-checked", "true")
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
    assert row.next_at is not None and "学区" in note_of(stack.settings, row)

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
    page.get_by_role("radio", name="电话").click()  # not answered: "reached" stays off
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


def test_an_effective_follow_up_without_content_is_not_saved(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    visit_id = register_visitor(stack, "13600001111", "周敏")
    page: Page = new_page("phone")
    log_in(page, stack)
    page.get_by_role("article", name="136****1111").get_by_role("button", name="写跟进").click()
    expect(page.get_by_role("radio", name="电话")).to_have_attribute("aria-checked", "true")
    reached = page.get_by_role("switch", name="联系上客户")
    expect(reached).to_have_attribute("aria-checked", "false")  # "reached" starts off
    reached.click()
    page.get_by_role("button", name="保存跟进").click()
    expect(page.get_by_text("有效跟进请填写跟进内容")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/pwa/follow-up"))
    assert page.evaluate("""() => new Promise(done => {
        const open = indexedDB.open('anchang-consultant')
        open.onsuccess = () => {
            const count = open.result.transaction('queue').objectStore('queue').count()
            count.onsuccess = () => done(count.result)
        }
    })""") == 0

    # Not only the form: the running appliance and the cloud refuse it too, and a
    # colleague's follow-up on Wang's visitor.
    wait_for(lambda: _cloud_visits(stack, visit_id), timeout=30, what="the visit in the cloud")
    for username, reached_on, note, status, code in (
        ("wanglei", True, " ", 422, "follow_up_content_required"),
        ("lina", False, "电话未接通", 403, "not_customer_owner"),
    ):
        body = {"id": str(uuid.uuid4()), "visit_id": visit_id, "kind": "call",
                "reached": reached_on, "note": note, "occurred_at": utcnow().isoformat()}
        login = httpx.post(f"{stack.edge_url}/api/v1/staff/login", timeout=10,
                           json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        for url, token in ((f"{stack.edge_url}/api/v1/staff/follow-ups",
                            login.json()["edge_token"]),
                           (f"{stack.cloud_url}/api/v1/follow-ups",
                            login.json()["cloud_access_token"])):
            refused = httpx.post(url, json=body, timeout=10, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": body["id"]})
            assert (refused.status_code, refused.json()["code"]) == (status, code), url
    assert not [f for f in follow_ups(stack) if f.visit_id == visit_id]


def _cut(page: Page, stack: Stack, *, cloud: bool) -> None:
    """The appliance stops answering (the phone's own network stays up); and the cloud
    too when `cloud` — so nothing can leave until the appliance is back."""
    page.context.route("**/api/v1/staff/**", lambda route: route.abort("connectionrefused"))
    page.context.route("**/healthz", lambda route: route.abort("connectionrefused"))
    if cloud:
        page.context.route(stack.cloud_url + "/**", lambda route: route.abort("connectionrefused"))


def test_queued_follow_ups_leave_within_seconds_of_the_appliance_answering_again(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    register_visitor(stack, "13600002222", "郑强")
    page: Page = new_page("phone")
    log_in(page, stack)
    visitor = page.get_by_role("article", name="136****2222")
    expect(visitor).to_be_visible()
    _cut(page, stack, cloud=True)
    banner = page.get_by_role("status").get_by_text("连不上案场设备")
    expect(banner).to_be_visible(timeout=15_000)  # a probe notices; the network is up

    visitor.get_by_role("button", name="写跟进").click()
    page.get_by_label("跟进内容").fill("电话未接通")
    page.get_by_role("button", name="保存跟进").click()
    queued = page.get_by_role("region", name="待同步")
    expect(queued.get_by_text("1 条待同步")).to_be_visible()
    page.wait_for_timeout(12_000)  # away for a while: the probe has backed off to its cap
    expect(queued.get_by_text("1 条待同步")).to_be_visible()

    page.context.unroute("**/api/v1/staff/**")
    page.context.unroute("**/healthz")
    back = time.monotonic()
    expect(queued.get_by_text("全部已同步")).to_be_visible(timeout=10_000)
    waited = time.monotonic() - back
    assert waited <= 6.5, f"the queue left {waited:.1f} s after the appliance came back"
    expect(banner).to_be_hidden()


def test_the_banner_tells_the_truth_after_a_reload(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    page: Page = new_page("phone")
    log_in(page, stack)
    wait_for_service_worker(page)
    page.context.set_offline(True)
    page.reload()  # served by the service worker
    expect(page.get_by_role("status").get_by_text("网络已断开")).to_be_visible()
    page.context.set_offline(False)
    expect(page.get_by_role("status", name="网络状态")).to_be_hidden(timeout=10_000)
    # Network up, appliance gone: after a reload the banner says so too.
    _cut(page, stack, cloud=False)
    page.reload()
    expect(page.get_by_role("status", name="网络状态").get_by_text("连不上案场设备")
           ).to_be_visible(timeout=10_000)
    screenshot(page, "pwa-edge-away")


def cloud_customer(stack: Stack, phone: str, name: str, contacted_days_ago: int) -> int:
    """A customer of Wang's the cloud knows from before this appliance (no visit here),
    last contacted some days ago, announced to the appliance as the cloud would."""
    settings = stack.settings
    at = utcnow() - timedelta(days=contacted_days_ago)
    with Session(stack.engine) as session:
        customer = Customer(
            project_id=stack.site.project_id,
            phone_enc=settings.cipher.encrypt(phone, context=PHONE_CONTEXT),
            phone_bidx=settings.blind_index.phone(phone),
            phone34_bidx=settings.blind_index.phone_masked(phone), phone_masked=mask_phone(phone),
            name_enc=settings.cipher.encrypt(name, context=NAME_CONTEXT),
            owner_id=stack.user_ids["wanglei"], visit_count=1, first_visit_at=at,
            last_visit_at=at, protection_until=at + timedelta(days=30), last_effective_at=at)
        session.add(customer)
        session.flush()
        feed.announce_customer(session, settings, customer)
        session.commit()
        assert customer.id is not None
        return customer.id


def unmasks(stack: Stack) -> list[AuditLog]:
    with Session(stack.engine) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == "customer.unmask")
                                 .order_by(col(AuditLog.id))).all())


def test_my_customers_by_the_seven_day_rule_and_a_call_after_an_audited_reveal(
    stack: Stack, new_page: Callable[..., Any]
) -> None:
    overdue = cloud_customer(stack, "13500001001", "何静", contacted_days_ago=9)
    cloud_customer(stack, "13500001002", "孙立", contacted_days_ago=5)
    register_visitor(stack, "13500001003", "吴凡")  # today, at this office
    page: Page = new_page("phone")
    log_in(page, stack)
    page.get_by_role("tab", name="我的客户").click()
    mine = page.get_by_role("region", name="我的客户")
    expect(mine.get_by_role("link", name="何** 135****1001")).to_be_visible(timeout=15_000)
    expect(mine.get_by_role("link", name="孙** 135****1002")).to_be_visible()
    expect(mine.get_by_role("link", name="吴** 135****1003")).to_be_hidden()  # not due yet
    expect(mine.get_by_role("link", name="何** 135****1001").get_by_text("逾期")).to_be_visible()
    expect(mine.get_by_role("link", name="孙** 135****1002").get_by_text("待跟进")).to_be_visible()
    screenshot(page, "pwa-customers")
    page.get_by_role("tab", name=re.compile("逾期")).click()
    expect(mine.get_by_role("link")).to_have_count(1)
    page.get_by_role("tab", name=re.compile("全部")).click()
    expect(mine.get_by_role("link", name="吴** 135****1003")).to_be_visible()

    # A customer this appliance has no number of: the cloud reveals it, audited.
    page.get_by_role("tab", name=re.compile("逾期")).click()
    mine.get_by_role("link", name="何** 135****1001").click()
    expect(page.get_by_text("135****1001")).to_be_visible()
    page.get_by_role("button", name="打电话").click()
    page.get_by_role("button", name="查看并拨打").click()
    call = page.get_by_role("link", name="拨打 13500001001")
    expect(call).to_have_attribute("href", "tel:13500001001")
    [audited] = unmasks(stack)
    assert audited.actor == "wanglei" and audited.object_id == str(overdue)
    assert audited.detail["via"] == "cloud" and audited.detail["purpose"] == "call"
    settled(page)
    screenshot(page, "pwa-customer")

    # After the call, the follow-up (a call, as it comes first): reached, with what was
    # said — off the overdue list, and in the customer's history.
    page.get_by_role("button", name="写跟进").click()
    expect(page.get_by_text("何** 135****1001")).to_be_visible()
    expect(page.get_by_role("radio", name="电话")).to_have_attribute("aria-checked", "true")
    page.get_by_role("switch", name="联系上客户").click()
    page.get_by_label("跟进内容").fill("电话联系上，客户下周六来看样板间")
    page.get_by_role("button", name="保存跟进").click()
    expect(page.get_by_role("region", name="最近已同步").get_by_text("已同步·云端")
           ).to_be_visible(timeout=15_000)
    wait_for(lambda: any(f.customer_id == overdue and f.effective for f in follow_ups(stack)),
             timeout=20, what="the follow-up in the cloud")
    page.get_by_role("tab", name="我的客户").click()
    page.get_by_role("tab", name=re.compile("逾期")).click()
    expect(mine.get_by_role("link", name="何** 135****1001")).to_be_hidden(timeout=30_000)
    page.get_by_role("tab", name=re.compile("全部")).click()
    mine.get_by_role("link", name="何** 135****1001").click()
    expect(page.get_by_text("电话联系上，客户下周六来看样板间")).to_be_visible()
    page.go_back()

    # One seen here: the appliance reveals it and the reveal reaches the cloud's audit.
    page.get_by_role("tab", name=re.compile("全部")).click()
    mine.get_by_role("link", name="吴** 135****1003").click()
    page.get_by_role("button", name="打电话").click()
    page.get_by_role("button", name="查看并拨打").click()
    expect(page.get_by_role("link", name="拨打 13500001003")).to_be_visible()
    wait_for(lambda: len(unmasks(stack)) == 2, timeout=30, what="the appliance's reveal audited")
    assert unmasks(stack)[1].detail["via"] == f"site:{stack.site.site_id}"
