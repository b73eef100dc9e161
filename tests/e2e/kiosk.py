"""Helpers for the kiosk's browser tests: open a provisioned tablet, change the rota, and
measure the layout (overflow, clipping, tap targets) the way a reception tablet needs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.conftest import Stack

TAP_TARGET_PX = 44  # the smallest tap target a finger hits reliably (WCAG 2.5.5, Apple HIG)
A11Y_RULES = ["button-name", "label", "aria-command-name", "color-contrast"]


def open_kiosk(new_page: Callable[..., Any], stack: Stack, path: str = "/",
               kind: str = "kiosk") -> Any:
    """A fresh tablet provisioned with the kiosk token link (…/kiosk/?token=…)."""
    page = new_page(kind)
    page.goto(f"{stack.edge_url}/kiosk{path}?token={stack.edge.token}")
    return page


def rota(stack: Stack, action: str, username: str) -> dict[str, Any]:
    response = httpx.post(
        f"{stack.edge_url}/api/v1/kiosk/rota/{action}",
        json={"consultant_id": stack.user_ids[username]},
        headers={"Authorization": f"Bearer {stack.edge.token}"}, timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def nobody_on_duty(stack: Stack) -> None:
    for person in stack.edge.get("/api/v1/kiosk/rota/board").json()["consultants"]:
        if person["on_duty"]:
            username = next(u for u, i in stack.user_ids.items() if i == person["id"])
            rota(stack, "check-out", username)


def accept_notice(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="个人信息与摄像头使用告知")).to_be_visible()
    page.get_by_role("button", name="同意并继续").click()
    expect(page.get_by_role("heading", name="来访登记")).to_be_visible()


# Run in the page: what a tablet user would see as broken. Every scrolling box (the page and
# the app's main area) must not scroll sideways; every control must be a full tap target;
# badges, steppers and inputs must sit inside their card, not be cut off by it.
_LAYOUT_JS = """(minTap) => {
  const problems = [];
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('[aria-hidden=true]');
  };
  const name = (el) => (el.getAttribute('aria-label') || el.textContent || el.className)
    .trim().replace(/\\s+/g, ' ').slice(0, 40);
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
  }
  for (const box of document.querySelectorAll('main, .k-card')) {
    if (box.scrollWidth > box.clientWidth + 1) {
      problems.push(`overflows: ${box.className} ${box.scrollWidth} > ${box.clientWidth}`);
    }
  }
  for (const el of document.querySelectorAll('button, [role=radio], input, a[href]')) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width < minTap || r.height < minTap) {
      problems.push(`tap target ${Math.round(r.width)}x${Math.round(r.height)}: ${name(el)}`);
    }
  }
  for (const el of document.querySelectorAll('.van-tag, button, input')) {
    const card = el.closest('.k-card');
    if (!card || !shown(el)) continue;
    const r = el.getBoundingClientRect(), c = card.getBoundingClientRect();
    if (r.left < c.left - 0.5 || r.right > c.right + 0.5) {
      problems.push(`cut off by its card: ${name(el)}`);
    }
  }
  for (const el of document.querySelectorAll('input')) {
    if (shown(el) && el.scrollWidth > el.clientWidth) {
      problems.push(`text cut off in input: ${name(el)} (${el.value})`);
    }
  }
  return problems;
}"""


def layout_problems(page: Any) -> list[str]:
    """Sideways scrolling, clipped controls and tap targets under 44×44 CSS px."""
    problems: list[str] = page.evaluate(_LAYOUT_JS, TAP_TARGET_PX)
    return problems


def grid_columns(page: Any, selector: str) -> int:
    """How many columns the shown children of the grid `selector` sit in."""
    columns: int = page.evaluate("""(selector) => new Set(
      [...document.querySelector(selector).children]
        .map((el) => el.getBoundingClientRect())
        .filter((r) => r.width > 0)
        .map((r) => Math.round(r.left))).size""", selector)
    return columns
