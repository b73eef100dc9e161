"""Fixtures of the cloud tests (the helpers live in tests/cloud/__init__.py and
tests/cloud/sales_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud.channel_world import ChannelWorld, build_channel_world
from tests.cloud.sales_world import build_world
from tests.conftest import cloud_env, signin_settings
from tests.fakes.aliyun_sms import FakeAliyunSms
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


@pytest.fixture
def signin(settings: CloudSettings, cw: ChannelWorld, fake_wechat: tuple[FakeWeChat, str],
           fake_sms: tuple[FakeAliyunSms, str]) -> Iterator[TestClient]:
    """The channel world's app wired to the fakes."""
    with TestClient(create_app(signin_settings(settings, fake_wechat[1], fake_sms[1]))) as c:
        yield c
