"""The real edge agent as a separate process, so a test can kill -9 it, restart it, or
run it under libfaketime with a wrong clock."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from edge_agent.settings import EdgeSettings
from shared.crypto import new_key
from tests.consent import consent_body
from tests.integration.conftest import ProvisionedSite
from tests.integration.mosquitto import free_port
from tests.integration.peer import wait_for


def libfaketime() -> str | None:
    found = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    return found[0] if found else None


# A loaded two-core machine (CI with a chaos run beside it) has taken over 20 s to import
# and start the agent; the bound only catches an agent that never comes up.
START_TIMEOUT_SECONDS = 60


class EdgeProcess:
    def __init__(self, workdir: Path, site: ProvisionedSite, broker_port: int, **extra: str):
        self.workdir = workdir
        self.port = free_port()
        self.token = new_key()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ANCHANG_")},
            "ANCHANG_EDGE_SITE_ID": site.site_id,
            "ANCHANG_EDGE_SITE_KEY": site.key_b64,
            "ANCHANG_EDGE_DATA_KEYS": f"k1:{new_key()}",
            "ANCHANG_EDGE_KIOSK_TOKEN": self.token,
            "ANCHANG_EDGE_DATABASE_PATH": str(workdir / "edge.db"),
            "ANCHANG_EDGE_PORT": str(self.port),
            "ANCHANG_EDGE_MQTT_PORT": str(broker_port),
            "ANCHANG_EDGE_MQTT_USERNAME": site.mqtt_username,
            "ANCHANG_EDGE_MQTT_PASSWORD": site.mqtt_password,
            "ANCHANG_EDGE_ACK_TIMEOUT_SECONDS": "3",
            "ANCHANG_EDGE_DOWN_POLL_SECONDS": "1",
            "ANCHANG_EDGE_STATUS_INTERVAL_SECONDS": "2",
            "ANCHANG_EDGE_MQTT_KEEPALIVE": "5",
            **{f"ANCHANG_EDGE_{k.upper()}": v for k, v in extra.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "edge.log"

    def start(self, *, crash_at: str | None = None, clock_offset: str | None = None) -> None:
        env = dict(self.env)
        if crash_at:
            env["ANCHANG_CRASH_AT"] = crash_at
        if clock_offset:
            lib = libfaketime()
            assert lib, "libfaketime is missing (make test installs Debian's faketime)"
            env.update(LD_PRELOAD=lib, FAKETIME=clock_offset, FAKETIME_DONT_FAKE_MONOTONIC="1",
                       FAKETIME_NO_CACHE="1")
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "edge_agent"], env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"edge agent exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"edge agent did not answer /healthz within {START_TIMEOUT_SECONDS} s")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def exit_code(self, timeout: float = 10) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def register(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        # A kiosk always sends the visitor's consent; a test that omits it means a kiosk.
        body = {"consent": consent_body(), **body}
        return httpx.post(self.url + "/api/v1/kiosk/visits", json=body,
                          headers=self._headers(key or str(uuid.uuid4())), timeout=10)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=self._headers(), timeout=10)

    def wait_projects(self, timeout: float = 30) -> None:
        """Until the down-feed has brought the site's projects: the kiosk refuses a visit to
        a project it does not know, and on a loaded machine the first feed can take
        seconds."""
        wait_for(lambda: self.get("/api/v1/kiosk/projects").json(), timeout=timeout,
                 what="the site's projects on the appliance")

    def wait_consultant(self, consultant_id: int, timeout: float = 20) -> None:
        """Until the down-feed has brought the consultant (the roster works end to end)."""
        wait_for(lambda: any(c["id"] == consultant_id
                             for c in self.get("/api/v1/kiosk/consultants").json()),
                 timeout=timeout, what="the consultant roster on the edge")


def edge_settings(edge: EdgeProcess, **overrides: object) -> EdgeSettings:
    """The settings the process runs with, for a test that opens its store directly."""
    values: dict[str, object] = {
        k.removeprefix("ANCHANG_EDGE_").lower(): v
        for k, v in edge.env.items() if k.startswith("ANCHANG_EDGE_")
    }
    values.update(overrides)
    return EdgeSettings(_env_file=None, **values)  # type: ignore[call-arg]
