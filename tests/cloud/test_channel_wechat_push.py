"""Brokers' messages pushed as template messages of the 公众号 (job channel.wechat_push),
and the 公众号's access token: cached in the database, refreshed before expiry, by one
refresher at a time — against the local fake WeChat over HTTP, on the real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.channel import notifications
from cloud.channel.appeal_models import Notification
from cloud.channel.models import Broker
from cloud.channel.signin.models import (
    OPENID_CONTEXT,
    TOKEN_CONTEXT,
    WeChatIdentity,
    WeChatToken,
)
from cloud.channel.signin.wechat import WeChatClient
from cloud.channel.signin.wechat_token import access_token
from cloud.channel.wechat_push import PUSH_TRIES
from cloud.jobs.celery_app import run_job
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud.channel_world import ChannelWorld
from tests.conftest import WX_WEB, signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat

TEMPLATE = "TPL-notice-0001"


@pytest.fixture
def wx(fake_wechat: tuple[FakeWeChat, str]) -> Iterator[FakeWeChat]:
    fake = fake_wechat[0]
    fake.app_tokens.clear()
    fake.messages.clear()
    fake.templates = {TEMPLATE}
    fake.down = False
    yield fake
    fake.followers.clear()
    fake.down = False


@pytest.fixture
def push_settings(settings: CloudSettings, fake_wechat: tuple[FakeWeChat, str],
                  fake_sms: tuple[FakeAliyunSms, str]) -> CloudSettings:
    return signin_settings(settings, fake_wechat[1], fake_sms[1], wechat_template_id=TEMPLATE)


def follow(db: Session, settings: CloudSettings, wx: FakeWeChat, broker: Broker,
           openid: str, *, following: bool = True) -> None:
    """The broker signed in through the 公众号 as `openid` (and follows it)."""
    assert broker.id is not None
    db.add(WeChatIdentity(
        broker_id=broker.id, app="web", appid=WX_WEB,
        openid_enc=settings.cipher.encrypt(openid, context=OPENID_CONTEXT),
        openid_bidx=settings.blind_index.of("wechat_openid", openid)))
    db.commit()
    if following:
        wx.followers.add(openid)


def tell(db: Session, broker: Broker, title: str, body: str) -> Notification:
    row = notifications.notify(db, user_id=broker.user_id, kind="appeal", title=title,
                               body=body, data={"appeal_id": 1})
    db.commit()
    return row


def push(settings: CloudSettings, engine: Engine) -> dict[str, int]:
    return run_job(jobs()["channel.wechat_push"], settings, engine)


def states(db: Session) -> list[tuple[str | None, int]]:
    db.expire_all()
    return [(n.push_state, n.push_tries) for n in db.exec(
        select(Notification).order_by(col(Notification.id))).all()]


def test_a_followers_messages_go_out_as_template_messages_with_one_token(
        db: Session, cw: ChannelWorld, wx: FakeWeChat, push_settings: CloudSettings,
        engine: Engine) -> None:
    a1, b1 = cw.brokers["broker_a1"], cw.brokers["broker_b1"]
    follow(db, push_settings, wx, a1, "o-a1-openid")
    tell(db, a1, "申诉结果：已支持", "您对报备 138****5678 的申诉已支持，客户归属已改判为您，"
         "请在保护期内带看")
    tell(db, a1, "申诉审核中", "您的报备申诉正在审核")
    tell(db, b1, "申诉审核中", "您的报备申诉正在审核")  # never signed in with the 公众号
    before = wx.calls.count("token")

    run = push(push_settings, engine)

    assert (run["sent"], run["skipped"], run["failed"]) == (2, 1, 0)
    assert states(db) == [("sent", 0), ("sent", 0), ("skipped", 0)]
    assert wx.calls.count("token") - before == 1  # one token for the batch
    first = wx.messages[0]
    assert first["touser"] == "o-a1-openid" and first["template_id"] == TEMPLATE
    assert first["url"] == "https://h5.example.cn/h5/#/messages"
    assert first["data"]["thing1"]["value"] == "申诉结果：已支持"
    body = first["data"]["thing2"]["value"]
    assert len(body) == 20 and body.endswith("…")  # WeChat's limit on a `thing`
    assert "年" in first["data"]["time3"]["value"]
    # Nothing is sent twice.
    assert push(push_settings, engine)["sent"] == 0 and len(wx.messages) == 2


def test_the_token_is_cached_encrypted_and_refreshed_before_expiry_or_when_refused(
        db: Session, cw: ChannelWorld, wx: FakeWeChat, push_settings: CloudSettings) -> None:
    client = WeChatClient(push_settings)
    before = wx.calls.count("token")
    first = access_token(db, push_settings, client)
    assert access_token(db, push_settings, client) == first
    assert wx.calls.count("token") - before == 1
    row = db.exec(select(WeChatToken)).one()
    assert first not in row.token_enc
    assert push_settings.cipher.decrypt(row.token_enc, context=TOKEN_CONTEXT) == first
    # Five minutes before WeChat's expiry it is refreshed.
    row.expires_at = utcnow() + timedelta(minutes=4)
    db.add(row)
    db.commit()
    second = access_token(db, push_settings, client)
    assert second != first and wx.calls.count("token") - before == 2
    # A token WeChat refused is replaced — unless another process already replaced it.
    third = access_token(db, push_settings, client, refused=second)
    assert third != second
    assert access_token(db, push_settings, client, refused=second) == third
    assert wx.calls.count("token") - before == 3


def test_an_expired_token_is_refreshed_once_and_the_message_still_goes(
        db: Session, cw: ChannelWorld, wx: FakeWeChat, push_settings: CloudSettings,
        engine: Engine) -> None:
    a1 = cw.brokers["broker_a1"]
    follow(db, push_settings, wx, a1, "o-a1-openid")
    access_token(db, push_settings, WeChatClient(push_settings))
    wx.expire_tokens()  # revoked early at WeChat: the cache still believes in it
    tell(db, a1, "报备已作废", "风控复核确认，报备作废")
    assert push(push_settings, engine)["sent"] == 1
    assert len(wx.messages) == 1


def test_one_refresher_at_a_time(
        db: Session, cw: ChannelWorld, wx: FakeWeChat, push_settings: CloudSettings,
        engine: Engine) -> None:
    before = wx.calls.count("token")
    got: list[str] = []
    start = threading.Barrier(8)

    def fetch() -> None:
        with Session(engine) as own:
            start.wait()
            got.append(access_token(own, push_settings, WeChatClient(push_settings)))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 8 and len(set(got)) == 1
    assert wx.calls.count("token") - before == 1


def test_who_cannot_receive_is_skipped_and_wechat_down_is_retried_then_given_up(
        db: Session, cw: ChannelWorld, wx: FakeWeChat, push_settings: CloudSettings,
        settings: CloudSettings, engine: Engine) -> None:
    a1, a2 = cw.brokers["broker_a1"], cw.brokers["broker_a2"]
    follow(db, push_settings, wx, a2, "o-a2-unfollowed", following=False)
    tell(db, a2, "申诉审核中", "您的报备申诉正在审核")
    assert push(push_settings, engine)["skipped"] == 1  # 43004: not following
    follow(db, push_settings, wx, a1, "o-a1-openid")
    tell(db, a1, "申诉审核中", "您的报备申诉正在审核")
    tell(db, a1, "申诉结果：已驳回", "证据不足")
    wx.down = True
    for attempt in range(1, PUSH_TRIES):
        run = push(push_settings, engine)
        assert (run["sent"], run["left"]) == (0, 1)  # the batch stops at the first failure
        assert states(db)[1:] == [("pending", attempt), ("pending", 0)]
    assert push(push_settings, engine)["failed"] == 1
    assert states(db)[1] == ("failed", PUSH_TRIES)
    wx.down = False
    assert push(push_settings, engine)["sent"] == 1
    assert wx.messages[-1]["data"]["thing1"]["value"] == "申诉结果：已驳回"
    # Without a template set, messages stay in the H5 only.
    tell(db, a1, "申诉审核中", "x")
    unset = push_settings.model_copy(update={"wechat_template_id": None})
    assert push(unset, engine)["skipped"] == 1 and len(wx.messages) == 1
