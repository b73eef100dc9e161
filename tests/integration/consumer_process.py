"""The cloud sync consumer as a separate process (`anchang sync run`, through
tests.integration.consumer_child), so a test can kill -9 it and start it again, or start
it at one of its crash points."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cloud.settings import CloudSettings
from tests.conftest import cloud_env
from tests.integration.conftest import CLOUD_MQTT_PASSWORD

CONNECTED_MARK = "sync.connected"


class ConsumerProcess:
    def __init__(self, workdir: Path, settings: CloudSettings, broker_port: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "consumer.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ANCHANG_")},
            **cloud_env(settings),
            "ANCHANG_CLOUD_MQTT_PORT": str(broker_port),
            "ANCHANG_CLOUD_MQTT_USERNAME": "anchang-cloud",
            "ANCHANG_CLOUD_MQTT_PASSWORD": CLOUD_MQTT_PASSWORD,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _connects_logged(self) -> int:
        return self.log.read_text(errors="replace").count(CONNECTED_MARK) \
            if self.log.exists() else 0

    def start(self, *, crash_at: str | None = None, wait: bool = True) -> None:
        """Start; with `wait`, return once it has connected to the broker (60 s at most:
        a loaded CI machine is slow to import and start it)."""
        env = dict(self.env)
        if crash_at:
            env["ANCHANG_CRASH_AT"] = crash_at
        before = self._connects_logged()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.consumer_child"], env=env,
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while wait and self._connects_logged() == before:
            if self.proc.poll() is not None:
                return  # died at once (a crash point): the caller looks at exit_code()
            if time.monotonic() > deadline:
                raise RuntimeError(f"sync consumer did not connect: {self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""
