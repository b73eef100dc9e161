"""Broker sign-up and sign-in by SMS code, through the Aliyun adapter against the local
fake Dysmsapi over HTTP; the code's limits on the real Redis."""

from __future__ import annotations

import time

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel.models import Broker
from cloud.channel.signin.errors import SmsFailed, SmsRefused
from cloud.channel.signin.sms import AliyunSms, sign_v1
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud.channel_world import ChannelWorld, add_broker
from tests.conftest import SMS_KEY_ID, signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat

NEW_PHONE = "13912345678"
SMS_SECRET = "fake-access-key-secret"


def send(client: TestClient, phone: str) -> httpx.Response:
    response: httpx.Response = client.post("/api/v1/channel/auth/sms/send",
                                           json={"phone": phone})
    return response


def sms_login(client: TestClient, phone: str, code: str,
              invite: str | None = None) -> httpx.Response:
    body = {"phone": phone, "code": code, **({"invite_code": invite} if invite else {})}
    response: httpx.Response = client.post("/api/v1/channel/auth/sms/login", json=body)
    return response


def fresh(db: Session, phone_bidx: str) -> list[Broker]:
    db.expire_all()
    return list(db.exec(select(Broker).where(Broker.phone_bidx == phone_bidx)).all())


def test_an_agency_invite_signs_up_a_pending_broker_of_that_agency(
        signin: TestClient, cw: ChannelWorld, fake_sms: tuple[FakeAliyunSms, str],
        db: Session, settings: CloudSettings) -> None:
    fake, _ = fake_sms
    sent = send(signin, "139 1234 5678")
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"cooldown_seconds": 60}
    code = fake.last_code(NEW_PHONE)
    assert len(code) == 6 and code.isdigit()
    assert fake.sent[-1].sign_name == "安畅" and fake.sent[-1].template == "SMS_100001"

    answer = sms_login(signin, NEW_PHONE, code, cw.agencies["A"].invite_code.lower())
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["roles"] == ["broker"]
    assert "anchang_refresh" in answer.cookies
    [broker] = fresh(db, settings.blind_index.phone(NEW_PHONE))
    assert (broker.kind, broker.agency_id, broker.status) == ("agency", cw.agencies["A"].id,
                                                             "pending")
    assert broker.phone_masked == "139****5678" and NEW_PHONE not in broker.phone_enc
    me = signin.get("/api/v1/auth/me", headers={
        "Authorization": f"Bearer {answer.json()['access_token']}"})
    assert me.json()["id"] == broker.user_id
    actions = [(a.action, a.result) for a in db.exec(select(AuditLog).order_by(
        col(AuditLog.id))).all()]
    assert ("channel.sms_send", "success") in actions
    assert ("channel.broker_signup", "success") in actions
    assert actions[-1] == ("auth.login", "success")
    # The code is used once.
    again = sms_login(signin, NEW_PHONE, code)
    assert again.status_code == 401 and again.json()["code"] == "sms_code_invalid"


def test_an_unknown_number_without_an_invite_is_refused(
        signin: TestClient, fake_sms: tuple[FakeAliyunSms, str]) -> None:
    send(signin, NEW_PHONE)
    answer = sms_login(signin, NEW_PHONE, fake_sms[0].last_code(NEW_PHONE))
    assert answer.status_code == 403
    assert answer.json()["code"] == "broker_invite_required"
    bogus_send = send(signin, "13800001111")
    assert bogus_send.status_code == 202
    bogus = sms_login(signin, "13800001111", fake_sms[0].last_code("13800001111"), "ZZZZZZZZ")
    assert bogus.status_code == 422 and bogus.json()["code"] == "invite_code_invalid"


def test_a_registered_broker_signs_in_without_an_invite(
        signin: TestClient, db: Session, settings: CloudSettings, cw: ChannelWorld,
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    broker = add_broker(db, settings, "phone_broker", agency=cw.agencies["B"],
                        phone="13566667777")
    send(signin, "13566667777")
    answer = sms_login(signin, "13566667777", fake_sms[0].last_code("13566667777"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["username"] == "phone_broker"
    assert len(fresh(db, broker.phone_bidx)) == 1


def test_five_wrong_codes_void_the_code(
        signin: TestClient, db: Session, fake_sms: tuple[FakeAliyunSms, str],
        cw: ChannelWorld) -> None:
    send(signin, NEW_PHONE)
    right = fake_sms[0].last_code(NEW_PHONE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        answer = sms_login(signin, NEW_PHONE, wrong, cw.agencies["A"].invite_code)
        assert answer.status_code == 401 and answer.json()["code"] == "sms_code_invalid"
    late = sms_login(signin, NEW_PHONE, right, cw.agencies["A"].invite_code)
    assert late.status_code == 401
    failures = db.exec(select(AuditLog).where(AuditLog.action == "auth.login",
                                              AuditLog.result == "failure")).all()
    assert len(failures) == 6
    assert all(NEW_PHONE not in (f.actor or "") for f in failures)


def test_an_expired_code_fails(signin: TestClient, settings: CloudSettings, cw: ChannelWorld,
                               fake_sms: tuple[FakeAliyunSms, str]) -> None:
    send(signin, NEW_PHONE)
    code = fake_sms[0].last_code(NEW_PHONE)
    assert settings.redis_url is not None
    store = redis.Redis.from_url(settings.redis_url)
    key = f"{settings.redis_prefix}signin:code:{settings.blind_index.phone(NEW_PHONE)}"
    assert store.get(key) is not None and code.encode() not in store.get(key)  # hashed
    store.pexpire(key, 1)
    time.sleep(0.05)
    answer = sms_login(signin, NEW_PHONE, code, cw.agencies["A"].invite_code)
    assert answer.status_code == 401


def test_sending_is_limited_per_number_and_per_source(
        settings: CloudSettings, cw: ChannelWorld, fake_wechat: tuple[FakeWeChat, str],
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    tight = signin_settings(settings, fake_wechat[1], fake_sms[1], sms_ip_limit=2)
    with TestClient(create_app(tight)) as client:
        assert send(client, NEW_PHONE).status_code == 202
        again = send(client, NEW_PHONE)  # a second device asking for the same number
        assert again.status_code == 429 and again.json()["code"] == "sms_cooldown"
        assert 0 < int(again.headers["Retry-After"]) <= 60
        assert send(client, "13900000002").status_code == 202
        flood = send(client, "13900000003")
        assert flood.status_code == 429
        assert int(flood.headers["Retry-After"]) > 60  # the source's hour, not a cooldown
    assert "13900000003" not in {m.phone for m in fake_sms[0].sent}


def test_a_provider_failure_sends_nothing_and_keeps_no_cooldown(
        settings: CloudSettings, cw: ChannelWorld, fake_wechat: tuple[FakeWeChat, str],
        fake_sms: tuple[FakeAliyunSms, str]) -> None:
    from pydantic import SecretStr
    wrong = signin_settings(settings, fake_wechat[1], fake_sms[1],
                            sms_access_key_secret=SecretStr("not-the-secret"))
    with TestClient(create_app(wrong)) as client:
        for _ in range(2):  # no cooldown was left behind: the second try reaches Aliyun too
            answer = send(client, NEW_PHONE)
            assert answer.status_code == 503 and answer.json()["code"] == "sms_unavailable"


def test_without_a_provider_production_refuses_and_the_demo_logs(
        settings: CloudSettings, cw: ChannelWorld) -> None:
    production = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(production)) as client:
        answer = send(client, NEW_PHONE)
        assert answer.status_code == 503 and answer.json()["code"] == "sms_not_configured"
    demo = settings.model_copy(update={"mode": "demo"})
    with TestClient(create_app(demo)) as client:
        assert send(client, NEW_PHONE).status_code == 202


def _adapter(url: str, secret: str = SMS_SECRET) -> AliyunSms:
    return AliyunSms(endpoint=url, key_id=SMS_KEY_ID, key_secret=secret, sign_name="安畅",
                     template="SMS_100001", timeout=5)


def test_the_adapter_speaks_dysmsapi(fake_sms: tuple[FakeAliyunSms, str]) -> None:
    fake, url = fake_sms
    _adapter(url).send_code("13700001234", "246810")
    assert fake.sent[-1].params == {"code": "246810"}
    with pytest.raises(SmsFailed):
        _adapter(url, "wrong").send_code("13700001234", "246810")
    fake.refuse_numbers["13700009999"] = "isv.BUSINESS_LIMIT_CONTROL"
    with pytest.raises(SmsRefused):
        _adapter(url).send_code("13700009999", "246810")


def test_the_fake_checks_what_aliyun_checks(fake_sms: tuple[FakeAliyunSms, str]) -> None:
    """A replayed request (same nonce) and a stale timestamp are refused like Aliyun's."""
    _, url = fake_sms
    params = {"AccessKeyId": SMS_KEY_ID, "Action": "SendSms", "Format": "JSON",
              "PhoneNumbers": "13700001234", "RegionId": "cn-hangzhou", "SignName": "安畅",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "nonce-fixed-1",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_100001",
              "TemplateParam": '{"code": "111111"}',
              "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "Version": "2017-05-25"}
    signed = {**params, "Signature": sign_v1(params, "fake-access-key-secret")}
    assert httpx.post(url + "/", data=signed).json()["Code"] == "OK"
    replay = httpx.post(url + "/", data=signed)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    old = {**params, "SignatureNonce": "nonce-fixed-2", "Timestamp": "2020-01-01T00:00:00Z"}
    stale = httpx.post(url + "/", data={**old, "Signature": sign_v1(old, "fake-access-key-secret")})
    assert stale.json()["Code"] == "InvalidTimeStamp.Expired"
    tampered = {**signed, "PhoneNumbers": "13700004321", "SignatureNonce": "nonce-fixed-3"}
    assert httpx.post(url + "/", data=tampered).json()["Code"] == "SignatureDoesNotMatch"
