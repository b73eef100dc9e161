"""The broker H5's JS-SDK configuration: WeChat's documented signature, the jsapi_ticket
cached like the token (fetched once, refreshed before expiry, a refused token replaced),
from the local fake WeChat; only the H5's own pages are signed."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel.signin import jssdk
from cloud.channel.signin.errors import PageUrlInvalid
from cloud.channel.signin.models import TICKET_CONTEXT, WeChatToken
from cloud.channel.signin.wechat import WeChatClient
from cloud.channel.signin.wechat_token import jsapi_ticket
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld
from tests.conftest import WX_WEB, signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat

H5 = "https://h5.example.cn/h5/"  # signin_settings' h5_public_url
URL = "/api/v1/channel/wechat/js-config"


@pytest.fixture
def wx(fake_wechat: tuple[FakeWeChat, str]) -> Iterator[FakeWeChat]:
    fake = fake_wechat[0]
    fake.app_tokens.clear()
    fake.tickets.clear()
    fake.down = False
    yield fake
    fake.down = False


@pytest.fixture
def wx_settings(settings: CloudSettings, fake_wechat: tuple[FakeWeChat, str],
                fake_sms: tuple[FakeAliyunSms, str]) -> CloudSettings:
    return signin_settings(settings, fake_wechat[1], fake_sms[1])


def test_the_signature_of_wechats_documented_example() -> None:
    # JS-SDK 说明文档, 附录1 (JS-SDK 使用权限签名算法): its example and its answer.
    assert jssdk.signature(
        ticket="sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        noncestr="Wm3WZYTPz0wzccnW", timestamp=1414587457,
        url="http://mp.weixin.qq.com?params=value",
    ) == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


@pytest.mark.parametrize("url", [
    "https://h5.example.cn/h5/projects", "https://h5.example.cn/h5/invite?x=1#top",
    "https://H5.example.cn/h5/"])
def test_pages_of_the_h5_are_signed_without_their_fragment(url: str) -> None:
    assert jssdk.page_url(url, H5) == url.split("#")[0]


@pytest.mark.parametrize("url", [
    "http://h5.example.cn/h5/projects",  # another scheme
    "https://h5.example.cn:8443/h5/projects",  # another port
    "https://evil.example.com/h5/projects", "https://h5.example.cn.evil.com/h5/",
    "https://h5.example.cn/h5-other/", "https://h5.example.cn/console/",
    "https://user:pw@h5.example.cn/h5/", "javascript:alert(1)//h5.example.cn/h5/"])
def test_other_pages_are_refused(url: str) -> None:
    with pytest.raises(PageUrlInvalid):
        jssdk.page_url(url, H5)


def test_the_ticket_is_fetched_once_cached_encrypted_and_refreshed(
        db: Session, cw: ChannelWorld, wx: FakeWeChat, wx_settings: CloudSettings) -> None:
    client = WeChatClient(wx_settings)
    before = wx.calls.count("ticket")
    first = jsapi_ticket(db, wx_settings, client)
    assert wx.tickets[first] == WX_WEB
    assert jsapi_ticket(db, wx_settings, client) == first
    assert wx.calls.count("ticket") - before == 1
    row = db.exec(select(WeChatToken)).one()
    assert row.ticket_enc is not None and first not in row.ticket_enc
    assert wx_settings.cipher.decrypt(row.ticket_enc, context=TICKET_CONTEXT) == first
    # Five minutes before its expiry a new one is fetched.
    row.ticket_expires_at = utcnow() + timedelta(minutes=4)
    db.add(row)
    db.commit()
    second = jsapi_ticket(db, wx_settings, client)
    assert second != first and wx.calls.count("ticket") - before == 2
    # The token was revoked at WeChat early: refreshed once, the ticket still comes.
    row = db.exec(select(WeChatToken)).one()
    db.refresh(row)
    row.ticket_expires_at = utcnow()
    db.add(row)
    db.commit()
    tokens = wx.calls.count("token")
    wx.expire_tokens()
    third = jsapi_ticket(db, wx_settings, client)
    assert third not in (first, second)
    assert wx.calls.count("token") - tokens == 1


def test_the_route_signs_an_h5_page_for_a_broker(
        cw: ChannelWorld, wx: FakeWeChat, wx_settings: CloudSettings) -> None:
    with TestClient(create_app(wx_settings)) as api:
        broker = signed_in(api, "broker_a1")
        page = "https://h5.example.cn/h5/invite?from=menu#poster"
        answer = api.post(URL, headers=broker, json={"url": page})
        assert answer.status_code == 200, answer.text
        found = answer.json()
        (ticket,) = wx.tickets
        signed = (f"jsapi_ticket={ticket}&noncestr={found['nonce_str']}"
                  f"&timestamp={found['timestamp']}&url={page.split('#')[0]}")
        assert found["signature"] == hashlib.sha1(  # noqa: S324 (WeChat's algorithm)
            signed.encode()).hexdigest()
        assert found["app_id"] == WX_WEB
        assert found["js_api_list"] == ["updateAppMessageShareData", "updateTimelineShareData"]
        assert abs(found["timestamp"] - utcnow().timestamp()) < 60

        other = api.post(URL, headers=broker, json={"url": "https://evil.example.com/h5/"})
        assert other.status_code == 422
        assert other.json()["code"] == "wechat_page_url_invalid"
        assert api.post(URL, json={"url": page}).status_code == 401
        assert api.post(URL, headers=signed_in(api, "consult_a"),
                        json={"url": page}).status_code == 403
        wx.down = True
        wx.tickets.clear()
        # The cached ticket still signs while WeChat is down.
        assert api.post(URL, headers=broker, json={"url": page}).status_code == 200


def test_one_ticket_fetcher_at_a_time(
        cw: ChannelWorld, wx: FakeWeChat, wx_settings: CloudSettings, engine: Engine) -> None:
    before = wx.calls.count("ticket")
    got: list[str] = []
    start = threading.Barrier(6)

    def fetch() -> None:
        with Session(engine) as own:
            start.wait()
            got.append(jsapi_ticket(own, wx_settings, WeChatClient(wx_settings)))

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 6 and len(set(got)) == 1
    assert wx.calls.count("ticket") - before == 1
