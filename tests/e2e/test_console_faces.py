"""Face use switched on from the console reaches the appliance: HQ fills the signage, the
capture area and the notice on 案场设备 → 人脸识别, the cloud states `site.faces` in the
down-feed, the edge's face settings follow; switched off the same way."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import SITE_ID, Stack
from tests.e2e.console import api, expect, login, menu
from tests.integration.peer import wait_for

pytestmark = pytest.mark.e2e

SIGNAGE = "本售楼处入口设有人脸识别，用于到访登记与渠道核验；不愿使用的可在前台以手机号登记"
NOTICE = "face-e2e-v1"


def edge_faces(stack: Stack) -> tuple[int, str | None, str | None]:
    with sqlite3.connect(stack.edge.workdir / "edge.db") as db:
        row: tuple[int, str | None, str | None] = db.execute(
            "SELECT enabled, signage_text, notice_version FROM face_settings").fetchone()
        return row


def test_hq_switches_a_sites_faces_on_and_off_and_the_appliance_follows(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    page = login(new_page, stack, "admin")
    try:
        menu(page).filter(has_text="案场设备").click()
        expect(page.get_by_text("存有人脸数据的人数")).to_be_visible()
        page.get_by_role("row").filter(has_text=SITE_ID).get_by_role(
            "button", name="的人脸识别设置").click()
        drawer = page.get_by_role("dialog", name="人脸识别")
        expect(drawer.get_by_text("未开启")).to_be_visible()
        switch_on = drawer.get_by_role("button", name="开启人脸识别")
        expect(switch_on).to_be_disabled()  # not without signage, area and notice
        drawer.get_by_placeholder("如：本售楼处入口设有人脸识别").fill(SIGNAGE)
        drawer.get_by_placeholder("如：售楼处正门至前台区域").fill("售楼处正门至前台")
        drawer.get_by_placeholder("如：face-2025.1").fill(NOTICE)
        switch_on.click()
        expect(drawer.get_by_text("已开启")).to_be_visible()
        wait_for(lambda: edge_faces(stack) == (1, SIGNAGE, NOTICE), timeout=45,
                 what="the appliance's face settings switched on by the console")

        drawer.get_by_role("button", name="关闭", exact=True).click()
        page.get_by_role("dialog", name="关闭人脸识别").get_by_role(
            "button", name="关闭", exact=True).click()
        expect(drawer.get_by_text("未开启")).to_be_visible()
        wait_for(lambda: edge_faces(stack)[0] == 0, timeout=45,
                 what="the appliance's face settings switched off")
    finally:
        api(stack, "admin", "PUT", f"/faces/sites/{SITE_ID}", json={"enabled": False})
