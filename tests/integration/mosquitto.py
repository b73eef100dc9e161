"""A real Mosquitto process per test, configured by the same generator the operators use."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from cloud.sync.credentials import BrokerFiles, mosquitto_conf
from tests.services import port_open, unavailable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        unavailable("mosquitto is not installed")
    return found


class Mosquitto:
    """Start, stop (SIGTERM or SIGKILL) and restart a broker on a fixed port."""

    def __init__(self, workdir: Path, files: BrokerFiles,
                 tls: tuple[str, str, str] | None = None, persistence: bool = True) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.tls = tls
        self.binary = mosquitto_binary()
        self.log = workdir / "mosquitto.log"
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        self.write_files(files)
        conf = mosquitto_conf(
            port=self.port, passwd_path=str(workdir / "passwd"), acl_path=str(workdir / "acl"),
            persistence_dir=str(workdir / "data") if persistence else None, tls=tls,
            run_as="root" if os.geteuid() == 0 else None,
        )
        conf += f"log_dest file {self.log}\nlog_type all\n"
        (workdir / "mosquitto.conf").write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    def write_files(self, files: BrokerFiles) -> None:
        (self.workdir / "passwd").write_text(files.passwd)
        (self.workdir / "acl").write_text(files.acl)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.workdir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port, 0.2):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited: {err} {self.log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not listen within 10 s")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def reload(self) -> None:
        """SIGHUP re-reads the password and ACL files."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
