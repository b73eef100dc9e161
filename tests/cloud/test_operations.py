"""Operating the cloud: no built-in secrets, health and readiness against the real
services, metrics, and the provisioning CLI whose files a real Mosquitto accepts."""

from __future__ import annotations

import os
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError
from sqlmodel import Session
from typer.testing import CliRunner

from cloud.cli import app as cli
from cloud.main import create_app
from cloud.settings import CloudSettings
from cloud.sync.credentials import (
    CLOUD_MQTT_USERNAME,
    BrokerFiles,
    broker_files,
    mosquitto_conf,
    mosquitto_password_hash,
)
from shared.crypto import new_key
from shared.envelope import MAX_MESSAGE_BYTES
from tests.conftest import cloud_env, make_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for
from tests.services import REDIS_URL, require


def test_the_service_refuses_to_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    for name in list(os.environ):
        if name.startswith("ANCHANG_CLOUD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANCHANG_CLOUD_DATABASE_URL", "sqlite:///:memory:")
    with pytest.raises(ValidationError) as info:
        CloudSettings(_env_file=None)  # type: ignore[call-arg]
    missing = {e["loc"][0] for e in info.value.errors()}
    assert {"jwt_secret", "data_keys", "blind_index_key", "audit_chain_keys"} <= missing
    with pytest.raises(ValidationError, match="at least 32"):
        make_settings("sqlite:///:memory:", jwt_secret="short")
    with pytest.raises(ValidationError):
        make_settings("sqlite:///:memory:", data_keys="k1:not-a-key")


def test_readiness_checks_postgresql_and_redis(pg_url: str, db: Session) -> None:
    require("Redis", "127.0.0.1", 6379)
    settings = make_settings(pg_url, redis_url=REDIS_URL, ops_token="o" * 32)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        metrics = client.get("/metrics", headers={"Authorization": "Bearer " + "o" * 32}).text
        assert 'anchang_cloud_http_request_seconds_count{method="GET",route="/readyz"' in metrics
    broken = make_settings(pg_url, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(broken)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("error")


def test_site_create_and_broker_files_work_with_a_real_mosquitto(
    pg_url: str, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(pg_url)
    env = {
        **cloud_env(settings),
        "ANCHANG_CLOUD_MQTT_PASSWORD": "cloud-" + new_key(),
    }
    runner = CliRunner()
    created = runner.invoke(cli, ["site", "create", "--id", "sz-nanshan", "--name", "深圳南山",
                                  "--project", "海景一期", "--project", "海景二期",
                                  "--out", str(tmp_path / "edge")], env=env)
    assert created.exit_code == 0, created.output
    env_file = tmp_path / "edge" / "sz-nanshan.edge.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    edge_env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert edge_env["ANCHANG_EDGE_MQTT_USERNAME"] == "site-sz-nanshan"
    # The field engineer's camera token: its own, not the lobby tablet's.
    assert len(edge_env["ANCHANG_EDGE_ENGINEER_TOKEN"]) >= 24
    assert edge_env["ANCHANG_EDGE_ENGINEER_TOKEN"] != edge_env["ANCHANG_EDGE_KIOSK_TOKEN"]
    again = runner.invoke(cli, ["site", "create", "--id", "sz-nanshan", "--name", "x",
                                "--project", "y", "--out", str(tmp_path)], env=env)
    assert again.exit_code != 0
    bad = runner.invoke(cli, ["site", "create", "--id", "Bad_ID", "--name", "x",
                              "--project", "y", "--out", str(tmp_path)], env=env)
    assert bad.exit_code == 1 and "案场代码" in bad.output
    files = runner.invoke(cli, ["broker", "files", "--out", str(tmp_path / "broker")], env=env)
    assert files.exit_code == 0, files.output
    passwd = (tmp_path / "broker" / "passwd").read_text()
    acl = (tmp_path / "broker" / "acl").read_text()
    assert edge_env["ANCHANG_EDGE_MQTT_PASSWORD"] not in passwd
    assert "topic write anchang/v1/sites/sz-nanshan/up" in acl
    conf = (tmp_path / "broker" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "max_queued_messages 100000" in conf

    broker = Mosquitto(tmp_path / "mosq", BrokerFiles(passwd=passwd, acl=acl))
    broker.start()
    try:
        def connect(password: str) -> int:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            client.username_pw_set("site-sz-nanshan", password)
            try:
                code = client.connect("127.0.0.1", broker.port)
                client.loop(timeout=2)
                return 0 if code == 0 and client.is_connected() else 1
            except Exception:
                return 1
            finally:
                client.disconnect()

        assert connect(edge_env["ANCHANG_EDGE_MQTT_PASSWORD"]) == 0
        assert connect("wrong-password") != 0
    finally:
        broker.stop()


def test_the_generated_broker_refuses_a_message_above_the_protocol_limit(tmp_path: Path
                                                                        ) -> None:
    """The protocol's 256 KiB limit holds at the broker too: a larger message never reaches
    a subscriber; one of exactly the limit does.

    The client here speaks MQTT 3.1.1 on purpose: Mosquitto 2.0.11 answers the refused
    PUBLISH of an MQTT 5 client with PUBACK reason 0x95, which MQTT 5 does not allow in a
    PUBACK, and paho 2.2 then drops the connection as malformed and resends the same
    message on reconnect — for ever. No party of the protocol may send an oversized
    message (docs/sync-protocol.md §2)."""
    conf = mosquitto_conf(port=1, passwd_path="p", acl_path="a", persistence_dir=None)
    assert f"message_size_limit {MAX_MESSAGE_BYTES}\n" in conf
    password = "cloud-" + new_key()
    broker = Mosquitto(tmp_path / "mosq", broker_files({}, [], mosquitto_password_hash(password)))
    broker.start()
    topic = "anchang/v1/sites/sh-limit/up"
    received: list[bytes] = []
    subscribed: list[int] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.username_pw_set(CLOUD_MQTT_USERNAME, password)
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda _c, _u, mid, _r, _p: subscribed.append(mid)
    client.on_message = lambda _c, _u, msg: received.append(msg.payload[:1])
    try:
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        wait_for(lambda: subscribed, what="SUBACK")
        client.publish(topic, b"x" * (MAX_MESSAGE_BYTES + 1), qos=1)
        client.publish(topic, b"y" * MAX_MESSAGE_BYTES, qos=1)
        # One publisher's messages arrive in order: had the first passed, it came first.
        wait_for(lambda: received, what="the message of exactly the limit")
        assert received == [b"y"]
        assert "Dropped too large PUBLISH" in broker.log_text()
    finally:
        client.loop_stop()
        client.disconnect()
        broker.stop()
