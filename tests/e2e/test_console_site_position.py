"""A channel manager sets the sales office's position on 案场设备 → 案场位置 (ADR 0060):
they see only that part of the page, paste a 高德 pick (经度,纬度, GCJ-02), and the cloud
keeps it in WGS-84 for the far-signing check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import SITE_NAME, Stack, screenshot
from tests.e2e.console import api, expect, login, make_user, menu

pytestmark = pytest.mark.e2e


def test_a_channel_manager_sets_the_offices_position(
    stack: Stack, new_page: Callable[..., Any],
) -> None:
    make_user(stack, "cm.position", roles=["channel_manager"])
    page = login(new_page, stack, "cm.position")
    menu(page).filter(has_text="案场设备").click()
    # Not the appliances' status: only the positions, open.
    expect(page.get_by_text("每 10 秒自动刷新")).to_be_hidden()
    expect(page.get_by_text("1 个未设置")).to_be_visible()
    page.get_by_role("button", name=f"设置 {SITE_NAME} 的位置").click()
    dialog = page.get_by_role("dialog", name="案场位置")
    dialog.get_by_label("粘贴坐标").fill("121.473701,31.230416")
    dialog.get_by_role("button", name="填入").click()
    expect(dialog.get_by_label("纬度")).to_have_value("31.230416")
    expect(dialog.get_by_label("经度")).to_have_value("121.473701")
    dialog.get_by_label("地址").fill("上海市黄浦区人民大道 1 号")
    screenshot(page, "console-site-position")
    dialog.get_by_role("button", name="保存").click()
    row = page.get_by_role("row").filter(has_text=SITE_NAME)
    expect(row).to_contain_text("上海市黄浦区人民大道 1 号")
    expect(row).to_contain_text("31.230416, 121.473701")
    expect(page.get_by_text("1 个未设置")).to_be_hidden()

    [site] = [s for s in api(stack, "cm.position", "GET", "/sites").json()
              if s["name"] == SITE_NAME]
    wgs = site["position"]["wgs84"]
    # GCJ-02 is a few hundred metres off WGS-84 in Shanghai: the cloud converted it.
    assert 31.2320 < wgs["lat"] < 31.2330 and 121.4690 < wgs["lng"] < 121.4700
