"""A real RTSP camera for the tests: tests/fakes/rtsp_camera.py (GStreamer's RTSP server,
H.264) run by Debian's Python in a child process, playing the frames given — the
simulated camera's lobby scene by default — in a loop. It can be killed and started
again on the same port, as a camera reboots.

Without GStreamer's RTSP server the tests that need it are skipped, and fail under
CI=true (tests/services.py); scripts/system-deps.sh installs it.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from edge_agent.cameras.simulated import FPS, lobby_scene
from tests.services import unavailable

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("rtsp_camera.py")
PATH = "/stream1"
READY_SECONDS = 15.0
_PROBE = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
    "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
    "missing = [e for e in ('multifilesrc', 'jpegdec', 'x264enc', 'rtph264pay')"
    " if Gst.ElementFactory.find(e) is None];"
    "print(' '.join(missing))"
)


@functools.cache
def gstreamer_missing() -> str | None:
    """Why the RTSP camera cannot run here, or None when it can."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True,
                           timeout=60, check=False)
    if probe.returncode != 0:
        return "GStreamer's RTSP server is not installed (bash scripts/system-deps.sh)"
    if probe.stdout.strip():
        return f"GStreamer elements missing: {probe.stdout.strip()} (bash scripts/system-deps.sh)"
    return None


def require_gstreamer() -> None:
    reason = gstreamer_missing()
    if reason is not None:
        unavailable(reason)


class RtspCamera:
    """One RTSP source; `url` has the credentials in it, as the reader gets it."""

    def __init__(self, folder: Path, frames: Sequence[npt.NDArray[np.uint8]], *,
                 fps: int = FPS, auth: tuple[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"frame-{i:05d}.jpg"), frame,
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
        self.folder, self.fps, self.auth = folder, fps, auth
        self.port = 0  # the first start takes a free one; a restart keeps it
        self.starts = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        user = "" if self.auth is None else f"{self.auth[0]}:{self.auth[1]}@"
        return f"rtsp://{user}127.0.0.1:{self.port}{PATH}"

    @property
    def pid(self) -> int:
        assert self._process is not None, "not running"
        return self._process.pid

    def start(self) -> None:
        command = [SYSTEM_PYTHON, str(SCRIPT), str(self.folder), "--port", str(self.port),
                   "--fps", str(self.fps), "--path", PATH]
        if self.auth is not None:
            command += ["--user", self.auth[0], "--password", self.auth[1]]
        # Debian's Python with its own modules: nothing of the virtualenv leaks in.
        env = {k: v for k, v in os.environ.items()
               if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        self._process = process
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], READY_SECONDS)
        line = process.stdout.readline() if ready else ""  # `READY <port>`, or EOF
        if not line.startswith("READY "):
            self.kill()
            raise RuntimeError(f"the RTSP camera did not start: {line!r}")
        self.port = int(line.split()[1])
        self.starts += 1

    def kill(self) -> None:
        """Gone at once, as a camera losing power: no RTSP TEARDOWN, sockets just close."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        if process is not None and process.stdout is not None:
            process.stdout.close()

    def restart(self) -> None:
        self.kill()
        self.start()


def serving_rtsp(folder: Path, frames: Sequence[npt.NDArray[np.uint8]] | None = None, *,
                 fps: int = FPS, auth: tuple[str, str] | None = None) -> Iterator[RtspCamera]:
    """Generator body of the fixtures: started, yielded, killed."""
    require_gstreamer()
    camera = RtspCamera(folder, lobby_scene() if frames is None else frames, fps=fps,
                        auth=auth)
    camera.start()
    try:
        yield camera
    finally:
        camera.kill()


@pytest.fixture
def rtsp_lobby(tmp_path: Path) -> Iterator[RtspCamera]:
    """The simulated camera's lobby scene (a visitor walking past) over RTSP, H.264,
    basic auth."""
    yield from serving_rtsp(tmp_path / "rtsp-frames", auth=("viewer", "rtsp-secret"))
