"""The kiosk's separate face-consent step in Chromium: hidden while the site does not use
faces; where it does, shown after the registration with the site's signage, declining
records nothing, agreeing records the consent for that visit on the appliance."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.e2e.conftest import Stack, screenshot
from tests.e2e.kiosk import accept_notice, open_kiosk, rota

pytestmark = pytest.mark.e2e
SIGNAGE = "本区域使用人脸识别，用于识别再次到访的客户"
NOTICE = "faces-2026-v1"


def set_faces(stack: Stack, enabled: bool) -> None:
    """What the cloud's `site.faces` order sets (its console half is built separately)."""
    with sqlite3.connect(stack.edge.workdir / "edge.db") as db:
        db.execute("UPDATE face_settings SET enabled = ?, signage_text = ?, notice_version = ?",
                   (enabled, SIGNAGE if enabled else None, NOTICE if enabled else None))


def consents(stack: Stack) -> list[tuple[str, int]]:
    with sqlite3.connect(stack.edge.workdir / "edge.db") as db:
        return db.execute("SELECT visit_id, granted FROM face_consent").fetchall()


def register(page: Any, phone: str) -> None:
    from playwright.sync_api import expect

    accept_notice(page)
    page.get_by_label("手机号").press_sequentially(phone, delay=20)
    page.get_by_role("spinbutton").fill("1")
    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_role("heading", name="首访登记成功")).to_be_visible(timeout=10_000)


def test_the_face_step_is_separate_optional_and_only_where_the_site_uses_faces(
        stack: Stack, new_page: Any) -> None:
    from playwright.sync_api import expect

    rota(stack, "check-in", "wanglei")
    page = open_kiosk(new_page, stack)
    register(page, "13700001111")
    expect(page.get_by_test_id("face-consent")).to_have_count(0)  # off by default
    set_faces(stack, True)
    try:
        page = open_kiosk(new_page, stack)
        register(page, "13700002222")
        step = page.get_by_test_id("face-consent")
        expect(step).to_contain_text(SIGNAGE)
        expect(step).to_contain_text("不同意不影响任何服务")
        screenshot(page, "kiosk-face-consent")
        page.get_by_test_id("face-decline").click()
        expect(step).to_contain_text("本次已凭手机号登记")
        assert consents(stack) == []  # declining records nothing
        page = open_kiosk(new_page, stack)
        register(page, "13700003333")
        page.get_by_test_id("face-agree").click()
        expect(page.get_by_test_id("face-consent")).to_contain_text("摄像头")  # no face yet
        visits = {v["phone_masked"]: v["id"] for v in
                  stack.edge.get("/api/v1/kiosk/visits").json()}
        (row,) = consents(stack)
        assert row[1] == 1 and row[0].replace("-", "") == visits["137****3333"].replace("-", "")
    finally:
        set_faces(stack, False)
