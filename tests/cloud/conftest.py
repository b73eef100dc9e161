"""Fixtures of the cloud tests (the helpers live in tests/cloud/__init__.py and
tests/cloud/sales_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session
from typer.testing import CliRunner

from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud.channel_world import ChannelWorld, build_channel_world
from tests.cloud.sales_world import build_world
from tests.conftest import cloud_env
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.server import serving
from tests.fakes.wechat import FakeWeChat


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> dict[str, Any]:
    return build_world(db, settings)


@pytest.fixture
def run(settings: CloudSettings, db: Session) -> CliRunner:
    """Runs `anchang …` commands against the test database."""
    return CliRunner(env={
        **cloud_env(settings),
    })


@pytest.fixture
def cw(db: Session, settings: CloudSettings) -> ChannelWorld:
    """The sales world with the channel's agencies, brokers and managers on it."""
    return build_channel_world(db, settings, build_world(db, settings))


@pytest.fixture
def api(settings: CloudSettings, cw: ChannelWorld) -> Iterator[TestClient]:
    """A client of the channel world (many sign-ins from one address)."""
    roomy = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        yield client


# Broker sign-in against local fakes of WeChat and Aliyun SMS, served over real HTTP.
WX_WEB, WX_MINI = "wx00000000000web1", "wx0000000000mini1"
SMS_KEY_ID = "LTAI5tFakeKeyId"


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[tuple[FakeWeChat, str]]:
    fake = FakeWeChat(apps={WX_WEB: "web-secret-0123456789", WX_MINI: "mini-secret-0123456789"})
    with serving(fake.app()) as url:
        yield fake, url


@pytest.fixture(scope="session")
def fake_sms() -> Iterator[tuple[FakeAliyunSms, str]]:
    fake = FakeAliyunSms(keys={SMS_KEY_ID: "fake-access-key-secret"},
                         sign_names=frozenset({"安畅"}), templates=frozenset({"SMS_100001"}))
    with serving(fake.app()) as url:
        yield fake, url


def signin_settings(settings: CloudSettings, wx_url: str, sms_url: str,
                    **more: object) -> CloudSettings:
    return settings.model_copy(update={
        "login_ip_limit": 1000, "h5_public_url": "https://h5.example.cn/h5/",
        "wechat_open_base": wx_url, "wechat_api_base": wx_url,
        "wechat_appid": WX_WEB, "wechat_secret": SecretStr("web-secret-0123456789"),
        "wechat_mini_appid": WX_MINI, "wechat_mini_secret": SecretStr("mini-secret-0123456789"),
        "sms_provider": "aliyun", "sms_endpoint": sms_url, "sms_access_key_id": SMS_KEY_ID,
        "sms_access_key_secret": SecretStr("fake-access-key-secret"),
        "sms_template_code": "SMS_100001", **more})


@pytest.fixture
def signin(settings: CloudSettings, cw: ChannelWorld, fake_wechat: tuple[FakeWeChat, str],
           fake_sms: tuple[FakeAliyunSms, str]) -> Iterator[TestClient]:
    """The channel world's app wired to the fakes."""
    with TestClient(create_app(signin_settings(settings, fake_wechat[1], fake_sms[1]))) as c:
        yield c
