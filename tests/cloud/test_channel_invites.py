"""Personal invites (全民营销): a broker's code, link and poster; signing up through it
makes an individual referrer linked to the inviter."""

from __future__ import annotations

import io

import segno
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.channel.models import Broker
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, add_broker
from tests.conftest import signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat


def _join(client: TestClient, sms: FakeAliyunSms, phone: str, invite: str) -> dict[str, object]:
    assert client.post("/api/v1/channel/auth/sms/send", json={"phone": phone}).status_code \
        == 202
    answer = client.post("/api/v1/channel/auth/sms/login", json={
        "phone": phone, "code": sms.last_code(phone), "invite_code": invite})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_a_broker_invites_friends_who_join_as_referrers(
        signin: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    me = signed_in(signin, "broker_a1")
    first = signin.get("/api/v1/channel/invites/mine", headers=me)
    assert first.status_code == 200, first.text
    code = first.json()["code"]
    assert first.json()["link"] == f"https://h5.example.cn/h5/#/join?invite={code}"
    assert first.json()["invited_count"] == 0
    assert code != cw.agencies["A"].invite_code
    # The code stays the broker's.
    assert signin.get("/api/v1/channel/invites/mine", headers=me).json()["code"] == code

    _join(signin, fake_sms[0], "13677778888", code)
    db.expire_all()
    friend = db.exec(select(Broker).where(
        Broker.phone_bidx == settings.blind_index.phone("13677778888"))).one()
    assert (friend.kind, friend.agency_id, friend.status, friend.invited_by) == (
        "referrer", None, "pending", cw.brokers["broker_a1"].id)
    mine = signin.get("/api/v1/channel/invites/mine", headers=me).json()
    assert mine["invited_count"] == 1
    assert mine["invited"][0]["display_name"] == "136****8888"

    poster = signin.get("/api/v1/channel/invites/mine/poster.png", headers=me)
    assert poster.status_code == 200
    assert poster.headers["content-type"] == "image/png"
    assert poster.content.startswith(b"\x89PNG\r\n\x1a\n")
    # The poster is the QR of exactly this link (segno renders deterministically).
    expected = io.BytesIO()
    segno.make(mine["link"], error="m").save(expected, kind="png", scale=10, border=6,
                                             dark="#8b1a1a", light="#fffaf0")
    assert poster.content == expected.getvalue()
    other = signin.get("/api/v1/channel/invites/mine/poster.png",
                       headers=signed_in(signin, "broker_b1"))
    assert other.content != poster.content


def test_pending_brokers_have_no_invite_and_a_frozen_inviters_code_is_dead(
        signin: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    add_broker(db, settings, "waiting", agency=cw.agencies["A"], status="pending",
               phone="13600000001")
    refused = signin.get("/api/v1/channel/invites/mine", headers=signed_in(signin, "waiting"))
    assert refused.status_code == 403 and refused.json()["code"] == "broker_not_registered"

    code = signin.get("/api/v1/channel/invites/mine",
                      headers=signed_in(signin, "broker_b1")).json()["code"]
    inviter = db.get(Broker, cw.brokers["broker_b1"].id)
    assert inviter is not None
    inviter.status = "frozen"
    db.add(inviter)
    db.commit()
    sms = fake_sms[0]
    signin.post("/api/v1/channel/auth/sms/send", json={"phone": "13677770000"})
    dead = signin.post("/api/v1/channel/auth/sms/login", json={
        "phone": "13677770000", "code": sms.last_code("13677770000"), "invite_code": code})
    assert dead.status_code == 422 and dead.json()["code"] == "invite_code_invalid"


def test_referrers_may_start_active_when_the_operator_says_so(
        settings: CloudSettings, cw: ChannelWorld, db: Session,
        fake_wechat: tuple[FakeWeChat, str], fake_sms: tuple[FakeAliyunSms, str]) -> None:
    eager = signin_settings(settings, fake_wechat[1], fake_sms[1], referrer_auto_approve=True)
    with TestClient(create_app(eager)) as client:
        code = client.get("/api/v1/channel/invites/mine",
                          headers=signed_in(client, "referrer")).json()["code"]
        token = _join(client, fake_sms[0], "13655554444", code)["access_token"]
        db.expire_all()
        friend = db.exec(select(Broker).where(
            Broker.phone_bidx == settings.blind_index.phone("13655554444"))).one()
        assert friend.status == "active"
        # An active referrer has an invite of their own at once, and may refer.
        own = client.get("/api/v1/channel/invites/mine",
                         headers={"Authorization": f"Bearer {token}"})
        assert own.status_code == 200 and own.json()["code"] != code
