"""Faults: no broker at all, the broker appearing later, kill -9 at the sync crash points."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from tests.consent import consent_body
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import KIOSK_TOKEN, env_of, make_settings, wait_sync
from tests.edge.seed import consultant, project

REPO = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {KIOSK_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def late_broker(
    tmp_path: Path, broker: tuple[str, int]
) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A port with no broker yet; the test starts our own Mosquitto on it when it wants."""
    port = free_port()
    started: list[subprocess.Popen[bytes]] = []
    yield port, started
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def start_mosquitto(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_sync(lambda: _port_open(port), within=10, what="mosquitto listening")
    return proc


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_kiosk_works_offline_and_the_backlog_drains_when_the_link_returns(
    tmp_path: Path, late_broker: tuple[int, list[subprocess.Popen[bytes]]]
) -> None:
    port, started = late_broker
    settings = make_settings(tmp_path, sync_enabled=True, mqtt_port=port)
    with TestClient(create_app(settings)) as client:
        for i in range(3):
            response = client.post(
                "/api/v1/kiosk/visits", json={"phone": f"1370000000{i}", "party_size": 1,
                                          "consent": consent_body()},
                headers={**AUTH, "Idempotency-Key": f"offline-visit-{i}"},
            )
            assert response.status_code == 201
            assert response.json()["provisional"] is True
        status = client.get("/api/v1/kiosk/status", headers=AUTH).json()
        assert status["cloud_link"] == "offline" and status["sync_enabled"] is True
        assert status["backlog"] == 3
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["broker"] == "disconnected"
        # The link comes back: the backlog drains in order.
        started.append(start_mosquitto(tmp_path, port))
        cloud = FakeCloud(settings.site_id, settings.site_key_bytes, port=port).start()
        try:
            wait_sync(
                lambda: client.get("/api/v1/kiosk/status", headers=AUTH).json()["backlog"] == 0,
                within=30, what="backlog drained",
            )
            assert cloud.applied_seqs() == [1, 2, 3]
            assert client.get("/api/v1/kiosk/status", headers=AUTH).json()["cloud_link"] == "online"
        finally:
            cloud.stop()


def run_child(settings: EdgeSettings, *args: str, crash_at: str | None = None) -> int:
    env = {**os.environ, **env_of(settings)}
    env.pop("ANCHANG_CRASH_AT", None)
    if crash_at:
        env["ANCHANG_CRASH_AT"] = crash_at
    proc = subprocess.run([sys.executable, "-m", "tests.edge.crash_child", *args], cwd=REPO,
                          env=env, capture_output=True, timeout=60, check=False)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(proc.stderr.decode()[-3000:])
    return proc.returncode


def rows(settings: EdgeSettings, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute(sql).fetchall()


def test_kill_after_publish_then_restart_delivers_once(
    edge_settings: EdgeSettings, cloud: FakeCloud
) -> None:
    assert run_child(edge_settings, "sync", "13300000001", crash_at="after_publish") == -9
    # Never acked: kept waiting.
    assert rows(edge_settings, "SELECT seq FROM outbox WHERE acked_at IS NULL") == [(1,)]
    assert run_child(edge_settings, "sync") == 0  # restart: resends, gets the ack
    assert cloud.applied_seqs() == [1]
    with cloud.lock:
        event_ids = {e.event_id for e in cloud.deliveries}
    assert len(event_ids) == 1  # duplicates (if any) are the same event
    assert rows(edge_settings, "SELECT count(*) FROM outbox WHERE acked_at IS NULL") == [(0,)]
    assert rows(edge_settings, "SELECT last_acked_seq FROM sync_state") == [(1,)]


def test_kill_after_the_ack_before_release_resends_and_releases(
    edge_settings: EdgeSettings, cloud: FakeCloud
) -> None:
    assert run_child(edge_settings, "sync", "13300000002",
                     crash_at="after_ack_before_release") == -9
    assert cloud.applied_seqs() == [1]  # the cloud has it and acked it …
    # … the edge never released it.
    assert rows(edge_settings, "SELECT seq FROM outbox WHERE acked_at IS NULL") == [(1,)]
    assert rows(edge_settings, "SELECT last_acked_seq FROM sync_state") == [(0,)]
    assert run_child(edge_settings, "sync") == 0
    # Released either by the Ack the broker's persistent session redelivers to the new
    # connection, or by the ack of a resend: never lost, never applied twice.
    assert cloud.delivered_seqs() in ([1], [1, 1])
    assert cloud.applied_seqs() == [1]
    assert rows(edge_settings, "SELECT count(*) FROM outbox WHERE acked_at IS NULL") == [(0,)]
    assert rows(edge_settings, "SELECT last_acked_seq FROM sync_state") == [(1,)]


def test_kill_after_the_down_apply_keeps_items_and_cursor_together(
    edge_settings: EdgeSettings, cloud: FakeCloud
) -> None:
    cloud.feed = [project(1, 1, "云栖府"), consultant(2, 7, "王顾问"), consultant(3, 8, "李顾问")]
    assert run_child(edge_settings, "down", crash_at="after_down_apply_before_cursor") == -9
    assert rows(edge_settings, "SELECT down_cursor FROM sync_state") == [(3,)]
    assert rows(edge_settings, "SELECT id FROM consultant ORDER BY id") == [(7,), (8,)]
    with cloud.lock:
        before = len(cloud.down_requests)
    assert run_child(edge_settings, "down") == 0
    with cloud.lock:
        after_restart = [r.cursor for r in cloud.down_requests[before:]]
    assert after_restart and set(after_restart) == {3}  # asks from the stored cursor
    assert rows(edge_settings, "SELECT count(*) FROM consultant") == [(2,)]


def test_a_publish_the_broker_refuses_is_counted_and_never_released(
    tmp_path: Path, late_broker: tuple[int, list[subprocess.Popen[bytes]]]
) -> None:
    port, started = late_broker
    acl = tmp_path / "acl"
    acl.write_text("topic read anchang/v1/sites/#\n")  # anonymous may read, never write
    conf = tmp_path / "mosquitto.conf"
    # `user root`: the broker keeps the rights to read the ACL in pytest's private tmp dir
    conf.write_text(f"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
                    f"persistence false\nacl_file {acl}\n")
    started.append(subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL))
    wait_sync(lambda: _port_open(port), within=10, what="mosquitto listening")
    settings = make_settings(tmp_path, sync_enabled=True, mqtt_port=port)
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/kiosk/visits", json={"phone": "13700000009",
                               "party_size": 1, "consent": consent_body()},
                               headers={**AUTH, "Idempotency-Key": "refused-1"})
        assert response.status_code == 201
        metrics = client.app.state.metrics  # type: ignore[attr-defined]
        wait_sync(lambda: any(
            s.labels["reason"].startswith("Not authorized") and s.value >= 1
            for m in metrics.registry.collect() if m.name == "anchang_edge_publish_refused"
            for s in m.samples if s.name.endswith("_total")
        ), what="the refused PUBACK counted")
        status = client.get("/api/v1/kiosk/status", headers=AUTH).json()
        assert status["cloud_link"] == "online" and status["backlog"] == 1
        assert status["last_acked_seq"] == 0
