"""`make demo` on its embedded defaults: SQLite, the in-process amqtt broker, one edge
agent, seeded visits that reach the cloud, printed URLs and generated accounts, and the
simulated camera read by the agent with its health in the cloud."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.mosquitto import free_port
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration


def test_demo_runs_on_embedded_defaults_and_syncs_its_seeded_visits(tmp_path: Path) -> None:
    cloud_port, edge_port, mqtt_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANCHANG_")}
    env["COLUMNS"] = "200"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cloud.cli", "demo", "--data-dir", str(tmp_path / "demo"),
             "--cloud-port", str(cloud_port), "--edge-port", str(edge_port),
             "--mqtt-port", str(mqtt_port), "--broker", "embedded"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "DEMO-READY" in log.read_text(), timeout=120, what="the demo banner")
        text = log.read_text()
        assert f"http://127.0.0.1:{cloud_port}/console/" in text
        # the kiosk's setup link on a line of its own, then its QR code
        setup = re.search(rf"^http://127\.0\.0\.1:{edge_port}/kiosk/\?token=[\w-]{{43}}\n"
                          r" +\n +█[█▀▄ ]+█ +\n", text, re.MULTILINE)
        assert setup, text
        assert f"http://127.0.0.1:{edge_port}/pwa/" in text
        assert "内置 amqtt" in text
        password = re.search(r"admin / (\S+)", text)
        assert password, text
        base = f"http://127.0.0.1:{cloud_port}"
        assert httpx.get(base + "/readyz").json()["status"] == "ok"
        # The built apps are served without any CDN (make demo builds them first).
        assert '<div id="app">' in httpx.get(base + "/console/").text
        assert httpx.get(f"http://127.0.0.1:{edge_port}/pwa/manifest.webmanifest"
                         ).status_code == 200
        token = httpx.post(base + "/api/v1/auth/login",
                           json={"username": "admin", "password": password.group(1)}
                           ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def synced() -> list[dict[str, object]]:
            items: list[dict[str, object]] = httpx.get(
                base + "/api/v1/visits", headers=headers).json()["items"]
            return items if len(items) == 3 else []

        # The channel's demo data: the broker H5's login is printed, and works.
        h5_login = re.search(rf"{base}/h5/ · jingjiren / (\S+)", text)
        assert h5_login, text
        broker = httpx.post(base + "/api/v1/auth/login",
                            json={"username": "jingjiren", "password": h5_login.group(1)})
        assert broker.status_code == 200, broker.text
        broker_headers = {"Authorization": f"Bearer {broker.json()['access_token']}"}
        mine = httpx.get(base + "/api/v1/channel/broker/customers", headers=broker_headers)
        assert [c["state"] for c in mine.json()] == ["pending"]
        assert len(httpx.get(base + "/api/v1/channel/referrals", headers=headers).json()) == 4

        visits = wait_for(synced, timeout=60, what="the three seeded visits in the cloud")
        assert {v["phone_masked"] for v in visits} == {"138****5678", "139****4321",
                                                       "159****1111"}
        assert all(v["consultant_name"] for v in visits)

        def camera_streaming() -> list[dict[str, object]]:
            cameras: list[dict[str, object]] = httpx.get(
                base + "/api/v1/cameras", params={"site_id": "demo-sh"}, headers=headers).json()
            return cameras if cameras and cameras[0]["capture_state"] == "streaming" else []

        # The simulated camera: its video read by the agent's capture reader, its health
        # in the console's list (ADR 0040).
        [camera] = wait_for(camera_streaming, timeout=60, what="the demo camera's health")
        assert camera["name"] == "大堂入口（模拟）" and camera["status"] == "confirmed"
        assert camera["last_frame_at"] and camera["sample_fps"] == 2.0
        # Demo mode: the operators' pages are open, and the scheduled duties run eagerly
        # in-process (no worker, beat or Redis): the audit head is already exported.
        assert httpx.get(base + "/metrics").status_code == 200
        heads = wait_for(lambda: list((tmp_path / "demo" / "audit-heads").glob("*.json")),
                         timeout=30, what="the audit head exported by the in-process job")
        # SQLite: one write lock, every row in shard 0.
        [head] = json.loads(heads[0].read_text())["heads"]
        assert (head["shard"], head["id"] > 0) == (0, True)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    # Generated secrets and accounts stay readable by the operator only.
    assert (tmp_path / "demo" / "secrets.json").stat().st_mode & 0o777 == 0o600
