"""What the console's browser tests share: signing in, Element Plus selects, settled
screenshots for the manual, API tokens, and walk-ins registered at the edge kiosk and
waited for in the cloud."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import httpx
from sqlmodel import Session

from cloud.identity import service as identity_service
from tests.e2e.a11y import axe_violations
from tests.e2e.conftest import PASSWORD, SITE_ID, Stack, screenshot
from tests.integration.peer import wait_for

EXPECT_TIMEOUT_MS = 10_000
# The 渠道 menu group, in order, as channel staff (and HQ) see it.
CHANNEL_MENUS = ["渠道公司", "经纪人", "报备记录", "渠道规则", "判客依据", "带看记录", "规则模拟",
                 "渠道活动", "项目资料", "渠道风控", "风控设置", "渠道申诉", "拓客任务", "拓客线索",
                 "渠道业绩", "多维查询"]


class Cloud(Protocol):
    """Where a console runs: the whole stack, or a cloud alone on another backend."""

    cloud_url: str


def expect(target: Any) -> Any:
    """Playwright's auto-waiting expect, imported only once a browser runs."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return playwright_expect(target)


def shot(page: Any, name: str) -> None:
    """A manual screenshot of a settled screen: no toast, spinner or hover highlight."""
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement instanceof HTMLElement && document.activeElement.blur()")
    expect(page.locator(".el-message")).to_have_count(0)
    expect(page.locator(".el-loading-mask")).to_have_count(0)
    screenshot(page, name)


def api_token(stack: Stack, username: str, password: str = PASSWORD) -> str:
    response = httpx.post(f"{stack.cloud_url}/api/v1/auth/login",
                          json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def api(stack: Stack, username: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call to the cloud API as `username` (signed in for this call)."""
    headers = {"Authorization": f"Bearer {api_token(stack, username)}",
               **kwargs.pop("headers", {})}
    return httpx.request(method, f"{stack.cloud_url}/api/v1{path}", headers=headers,
                         timeout=10, **kwargs)


def make_user(stack: Stack, username: str, *, roles: list[str],
              must_change_password: bool = False) -> None:
    """A user only this test logs in with, so its failures lock nobody else out."""
    with Session(stack.engine) as session:
        identity_service.create_user(
            session, username=username, password=PASSWORD, display_name=f"测试{username}",
            roles=roles, site_ids=[SITE_ID], must_change_password=must_change_password,
            actor="e2e")
        session.commit()


def open_login(new_page: Callable[..., Any], stack: Cloud, path: str = "/console/") -> Any:
    page = new_page("console")
    page.goto(stack.cloud_url + path)
    expect(page.get_by_role("heading", name="欢迎登录")).to_be_visible()
    return page


def submit_login(page: Any, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_response(re.compile(r"/api/v1/auth/login$")):
        page.get_by_role("button", name="登录").click()


def login(new_page: Callable[..., Any], stack: Cloud, username: str,
          path: str = "/console/") -> Any:
    page = open_login(new_page, stack, path)
    submit_login(page, username, PASSWORD)
    expect(page.get_by_role("button", name="当前用户")).to_be_visible()
    return page


def choose(page: Any, label: str, option: str) -> None:
    """Pick from an Element Plus select. It draws the chosen value over its input, so the
    click goes to where the user clicks, not to the covered input."""
    page.get_by_role("combobox", name=label).click(force=True)
    page.get_by_role("option", name=option, exact=True).click()


def menu(page: Any) -> Any:
    return page.get_by_role("menubar").get_by_role("menuitem")


def no_contrast_failures(page: Any) -> None:
    """axe-core's WCAG AA colour-contrast rule finds nothing on the settled screen (axe
    would measure a fading tooltip or message half transparent)."""
    page.mouse.move(0, 0)
    expect(page.get_by_role("tooltip")).to_have_count(0)
    expect(page.locator(".el-loading-mask")).to_have_count(0)
    expect(page.locator(".el-message")).to_have_count(0)
    found = axe_violations(page, ["color-contrast"])
    assert found == [], "\n".join(found)


def register_walk_ins(stack: Stack, walk_ins: Iterable[tuple[str, str, str | None, str | None]]
                      ) -> list[dict[str, Any]]:
    """Register (phone, name, consultant username, intent) at the edge kiosk, then wait
    until the cloud lists every one; returns the cloud's visits of the site."""
    wanted = list(walk_ins)
    token = api_token(stack, "admin")

    def listed() -> dict[str, Any]:
        page: dict[str, Any] = httpx.get(
            f"{stack.cloud_url}/api/v1/visits", params={"site_id": SITE_ID, "limit": 200},
            headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        return page

    expected = listed()["total"] + len(wanted)
    for phone, name, consultant, intent in wanted:
        response = stack.edge.register({
            "project_id": stack.site.project_id, "phone": phone, "name": name,
            "party_size": 2, "intent": intent,
            "consultant_id": stack.user_ids[consultant] if consultant else None,
        })
        assert response.status_code == 201, response.text

    def synced() -> list[dict[str, Any]] | None:
        page = listed()
        return page["items"] if page["total"] >= expected else None

    found: list[dict[str, Any]] = wait_for(synced, timeout=60, what="the kiosk visits in the cloud")
    return found
