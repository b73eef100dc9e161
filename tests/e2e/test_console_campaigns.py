"""The console's channel pages for brokers' view of projects: a channel manager (HQ here)
fills a project's profile for the broker H5 and publishes a campaign, confirming it first.
Screenshots go to docs/manual/images/ for docs/manual/console.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shared.timeutil import utcnow
from tests.e2e.conftest import Stack
from tests.e2e.console import api, expect, login, menu, shot

pytestmark = pytest.mark.e2e


def test_profile_and_campaign_publication(stack: Stack, new_page: Callable[..., Any]) -> None:
    project_id = stack.site.project_id
    page = login(new_page, stack, "admin")
    menu(page).filter(has_text="项目资料").click()
    expect(page.get_by_role("combobox", name="项目")).to_be_visible()
    page.get_by_label("区域").fill("浦东新区")
    page.get_by_label("最低总价（万元）").fill("300")
    page.get_by_label("最高总价（万元）").fill("520.5")
    layouts = page.get_by_role("combobox", name="户型")
    for layout in ("三室两厅", "四室两厅"):
        layouts.fill(layout)
        page.get_by_role("option", name=layout).click()
        expect(page.get_by_role("main").get_by_text(layout, exact=True)).to_be_visible()
    page.get_by_label("合作条款").fill("签约后 30 天内结佣，佣金为成交价的 1.2%")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("项目资料已保存，经纪人端即时可见")).to_be_visible()
    saved = api(stack, "admin", "GET", f"/channel/projects/{project_id}/profile").json()
    assert (saved["district"], saved["price_min_yuan"], saved["price_max_yuan"]) == (
        "浦东新区", 3_000_000, 5_205_000)
    assert saved["layouts"] == ["三室两厅", "四室两厅"]
    expect(page.locator(".el-message")).to_have_count(0, timeout=10_000)
    shot(page, "console-channel-profile")

    now = utcnow()
    made = api(stack, "admin", "POST", "/channel/campaigns", json={
        "title": "金秋带看节", "requirements": "活动期内带看 3 组", "rewards": "每组奖励 300 元",
        "starts_at": now.isoformat(), "ends_at": (now + timedelta(days=30)).isoformat(),
        "project_ids": [project_id]})
    assert made.status_code == 201, made.text
    menu(page).filter(has_text="渠道活动").click()
    row = page.get_by_role("row").filter(has_text="金秋带看节")
    expect(row.get_by_text("草稿")).to_be_visible()
    row.get_by_role("button", name="发布").click()
    dialog = page.get_by_role("dialog", name="发布活动")
    expect(dialog.get_by_text("发布后经纪人即可在 H5 看到该活动")).to_be_visible()
    dialog.get_by_role("button", name="发布").click()
    expect(row.get_by_text("已发布")).to_be_visible()
    listed = api(stack, "admin", "GET", "/channel/campaigns").json()
    assert [(c["title"], c["status"]) for c in listed] == [("金秋带看节", "published")]
    expect(page.locator(".el-message")).to_have_count(0, timeout=10_000)
    shot(page, "console-channel-campaigns")
