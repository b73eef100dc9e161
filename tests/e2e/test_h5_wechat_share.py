"""The broker H5 inside WeChat, in a phone-sized Chromium with WeChat's user agent: the
JS-SDK (served in place of WeChat's CDN) is configured with the cloud's signature of the
page and 分享项目 sets the share link's card; with no 公众号 configured (the cloud answers
503) the page falls back to the copied link, as outside WeChat."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from tests.e2e.conftest import Stack
from tests.e2e.console import expect
from tests.e2e.test_h5 import _broker, log_in, projects  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Version/4.0 Chrome/130.0 Mobile Safari/537.36 MicroMessenger/8.0.50.2701 "
             "NetType/WIFI Language/zh_CN")
# WeChat's `wx` as far as the H5 uses it, recording what it was given.
FAKE_SDK = """
window.__wx = { config: null, shares: [] };
window.wx = {
  config(options) { window.__wx.config = options },
  ready(callback) { setTimeout(callback, 0) },
  error() {},
  updateAppMessageShareData(data) { window.__wx.shares.push(['app', data]) },
  updateTimelineShareData(data) { window.__wx.shares.push(['timeline', data]) },
};
"""
CONFIG = {"app_id": "wx-e2e", "timestamp": 1414587457, "nonce_str": "Wm3WZYTPz0wzccnW",
          "signature": "0f9de62fce790f9a083d5c99e95740ceb90c27ed",
          "js_api_list": ["updateAppMessageShareData", "updateTimelineShareData"]}


def _wechat_page(new_page: Callable[..., Any]) -> Page:
    page: Page = new_page("phone", user_agent=WECHAT_UA)
    page.route("https://res.wx.qq.com/**", lambda route: route.fulfill(
        body=FAKE_SDK, content_type="application/javascript"))
    return page


def test_inside_wechat_the_project_share_sets_the_card(
    stack: Stack, projects: dict[str, int], new_page: Callable[..., Any]  # noqa: F811
) -> None:
    _broker(stack, "weixin1", status="active", phone="13700004441")
    page = _wechat_page(new_page)
    signed: list[str] = []

    def js_config(route: Route) -> None:
        signed.append(route.request.post_data_json["url"])
        route.fulfill(json=CONFIG)

    page.route("**/api/v1/channel/wechat/js-config", js_config)
    log_in(page, stack, "weixin1")
    page.get_by_role("region", name="星河湾一期").get_by_role("button", name="分享项目").click()
    expect(page.get_by_role("dialog")).to_contain_text("分享卡片已准备好")
    wx = page.evaluate("window.__wx")
    assert wx["config"] == {"debug": False, "appId": "wx-e2e", "timestamp": 1414587457,
                            "nonceStr": "Wm3WZYTPz0wzccnW",
                            "signature": "0f9de62fce790f9a083d5c99e95740ceb90c27ed",
                            "jsApiList": CONFIG["js_api_list"]}
    assert signed == [page.url.split("#")[0]]
    assert [kind for kind, _ in wx["shares"]] == ["app", "timeline"]
    card = wx["shares"][0][1]
    assert re.search(r"/h5/s/[A-Za-z0-9_=-]{44}$", card["link"])
    assert "星河湾一期" in card["title"] and "为您推荐" in card["desc"]
    assert card["imgUrl"].endswith("/card.png")


def test_inside_wechat_without_a_gongzhonghao_the_link_is_copied_as_before(
    stack: Stack, projects: dict[str, int], new_page: Callable[..., Any]  # noqa: F811
) -> None:
    _broker(stack, "weixin2", status="active", phone="13700004442")
    page = _wechat_page(new_page)
    log_in(page, stack, "weixin2")
    page.get_by_role("region", name="星河湾一期").get_by_role("button", name="分享项目").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(re.compile(r"/h5/s/[A-Za-z0-9_=-]{44}"))
    assert page.evaluate("window.__wx.shares") == []
