"""Broker sign-in by SMS code through the Tencent Cloud adapter (ANCHANG_CLOUD_SMS_PROVIDER
=tencent), against the local fake of Tencent's SendSms over HTTP, which checks the
TC3-HMAC-SHA256 signature as Tencent does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from cloud.channel.models import Broker
from cloud.channel.signin.errors import SmsFailed, SmsRefused
from cloud.channel.signin.sms import TENCENT_ENDPOINT, NoSms, from_settings
from cloud.channel.signin.sms_tencent import TencentSms, tc3_signature
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud.channel_world import ChannelWorld
from tests.conftest import signin_settings
from tests.fakes.server import serving
from tests.fakes.tencent_sms import FakeTencentSms
from tests.fakes.wechat import FakeWeChat

SECRET_ID, SECRET_KEY = "AKIDFakeSecretId0123456789", "fake-tencent-secret-key"
SDK_APP, TEMPLATE = "1400000001", "1234567"
NEW_PHONE = "13912345678"


@pytest.fixture(scope="module")
def fake_tencent() -> Iterator[tuple[FakeTencentSms, str]]:
    fake = FakeTencentSms(keys={SECRET_ID: SECRET_KEY}, apps=frozenset({SDK_APP}),
                          sign_names=frozenset({"安畅"}), templates=frozenset({TEMPLATE}))
    with serving(fake.app()) as url:
        yield fake, url


def tencent_settings(settings: CloudSettings, wx_url: str, sms_url: str,
                     **more: object) -> CloudSettings:
    return signin_settings(settings, wx_url, sms_url, **{
        "sms_provider": "tencent", "sms_access_key_id": SECRET_ID,
        "sms_access_key_secret": SecretStr(SECRET_KEY), "sms_template_code": TEMPLATE,
        "sms_sdk_app_id": SDK_APP, **more})


def _adapter(url: str, secret: str = SECRET_KEY) -> TencentSms:
    return TencentSms(endpoint=url, secret_id=SECRET_ID, secret_key=secret, sdk_app_id=SDK_APP,
                      sign_name="安畅", template=TEMPLATE, region="ap-guangzhou", timeout=5)


def test_a_broker_signs_up_with_a_code_sent_by_tencent(
        settings: CloudSettings, cw: ChannelWorld, db: Session,
        fake_wechat: tuple[FakeWeChat, str],
        fake_tencent: tuple[FakeTencentSms, str]) -> None:
    fake, url = fake_tencent
    with TestClient(create_app(tencent_settings(settings, fake_wechat[1], url))) as client:
        sent = client.post("/api/v1/channel/auth/sms/send", json={"phone": NEW_PHONE})
        assert sent.status_code == 202, sent.text
        message = fake.sent[-1]
        assert (message.phone, message.sign_name, message.template) == (
            f"+86{NEW_PHONE}", "安畅", TEMPLATE)
        code = fake.last_code(NEW_PHONE)
        assert len(code) == 6 and code.isdigit()
        answer = client.post("/api/v1/channel/auth/sms/login", json={
            "phone": NEW_PHONE, "code": code, "invite_code": cw.agencies["A"].invite_code})
        assert answer.status_code == 200, answer.text
    broker = db.exec(select(Broker).where(
        Broker.phone_bidx == settings.blind_index.phone(NEW_PHONE))).one()
    assert broker.agency_id == cw.agencies["A"].id


def test_a_wrong_secret_is_a_provider_failure_and_a_refused_number_is_the_persons(
        settings: CloudSettings, cw: ChannelWorld, fake_wechat: tuple[FakeWeChat, str],
        fake_tencent: tuple[FakeTencentSms, str]) -> None:
    fake, url = fake_tencent
    wrong = tencent_settings(settings, fake_wechat[1], url,
                             sms_access_key_secret=SecretStr("not-the-key"))
    with TestClient(create_app(wrong)) as client:
        for _ in range(2):  # a failed send leaves no cooldown behind
            answer = client.post("/api/v1/channel/auth/sms/send", json={"phone": NEW_PHONE})
            assert answer.status_code == 503 and answer.json()["code"] == "sms_unavailable"
    fake.refuse_numbers["+8613700009999"] = "LimitExceeded.PhoneNumberDailyLimit"
    with TestClient(create_app(tencent_settings(settings, fake_wechat[1], url))) as client:
        refused = client.post("/api/v1/channel/auth/sms/send", json={"phone": "13700009999"})
        assert refused.status_code == 422 and refused.json()["code"] == "sms_refused"


def test_the_adapter_speaks_tencent_sendsms(fake_tencent: tuple[FakeTencentSms, str]) -> None:
    fake, url = fake_tencent
    _adapter(url).send_code("13700001234", "246810")
    assert fake.sent[-1].params == ["246810"]
    with pytest.raises(SmsFailed):
        _adapter(url, "wrong").send_code("13700001234", "246810")
    with pytest.raises(SmsFailed):  # nobody listening
        _adapter("http://127.0.0.1:9").send_code("13700001234", "246810")
    fake.refuse_numbers["+8613700005555"] = "FailedOperation.PhoneNumberInBlacklist"
    with pytest.raises(SmsRefused):
        _adapter(url).send_code("13700005555", "246810")


def test_the_fake_checks_what_tencent_checks(fake_tencent: tuple[FakeTencentSms, str]) -> None:
    """A tampered body, a stale timestamp and a wrong scope are refused as Tencent does."""
    _, url = fake_tencent
    host = url.removeprefix("http://")
    payload = json.dumps({"PhoneNumberSet": ["+8613700001234"], "SmsSdkAppId": SDK_APP,
                          "SignName": "安畅", "TemplateId": TEMPLATE,
                          "TemplateParamSet": ["111111"]})

    def post(body: str, timestamp: int, signed_payload: str | None = None) -> str:
        scope, signature = tc3_signature(secret_key=SECRET_KEY, host=host,
                                         payload=signed_payload or body, timestamp=timestamp)
        answer = httpx.post(url + "/", content=body.encode(), headers={
            "Authorization": f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{scope}, "
                             f"SignedHeaders=content-type;host, Signature={signature}",
            "Content-Type": "application/json; charset=utf-8", "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou",
            "X-TC-Timestamp": str(timestamp)})
        response = answer.json()["Response"]
        return str(response["Error"]["Code"] if "Error" in response
                   else response["SendStatusSet"][0]["Code"])

    now = int(time.time())
    assert post(payload, now) == "Ok"
    assert post(payload.replace("1234", "4321"), now, payload) == "AuthFailure.SignatureFailure"
    assert post(payload, now - 3600) == "AuthFailure.SignatureExpire"


def test_the_provider_is_chosen_by_setting(settings: CloudSettings) -> None:
    unset = settings.model_copy(update={"sms_provider": "tencent"})
    assert isinstance(from_settings(unset), NoSms)  # no SdkAppId etc.: 503, never a log
    chosen = from_settings(settings.model_copy(update={
        "sms_provider": "tencent", "sms_access_key_id": SECRET_ID,
        "sms_access_key_secret": SecretStr(SECRET_KEY), "sms_template_code": TEMPLATE,
        "sms_sdk_app_id": SDK_APP}))
    assert isinstance(chosen, TencentSms) and chosen.endpoint == TENCENT_ENDPOINT + "/"
