"""The simulated camera of the demo and the tests: a live MJPEG-over-HTTP source, as
many IP cameras serve besides RTSP (`multipart/x-mixed-replace`, one JPEG per part,
HTTP basic auth). It plays a scene — a list of frames — at a fixed rate, looping, and
can go down and come back; the appliance reads it with the same capture reader as a
real camera (ADR 0040). `lobby_scene` is a visitor, from a real photograph shipped in a
registry package, walking past; `install` records it as a confirmed camera."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.cameras import inventory
from edge_agent.cameras.models import Camera
from edge_agent.faces import assets
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.timeutil import utcnow

BOUNDARY = "anchangframe"


class MjpegSource:
    def __init__(self, frames: Sequence[npt.NDArray[np.uint8]], fps: float = 10.0,
                 auth: tuple[str, str] | None = None) -> None:
        # HTTP basic, as cameras' MJPEG endpoints ask; FFmpeg sends the URL's user-info.
        self.auth = (None if auth is None else
                     "Basic " + base64.b64encode(":".join(auth).encode()).decode())
        self.refused = 0
        self.jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
                      for f in frames]
        self.fps = fps
        self.down = threading.Event()  # set: refuse new clients, cut the current ones
        self.connections = 0
        self.frames_sent = 0


def _handler(source: MjpegSource) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet in tests
            pass

        def do_GET(self) -> None:  # http.server's name for it
            if source.down.is_set() or self.path != "/video.mjpg":
                self.send_error(503 if source.down.is_set() else 404)
                return
            if source.auth is not None and self.headers.get("Authorization") != source.auth:
                source.refused += 1
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            source.connections += 1
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
            self.end_headers()
            index = 0
            try:
                while not source.down.is_set():
                    jpeg = source.jpegs[index % len(source.jpegs)]
                    self.wfile.write(
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                    self.wfile.flush()
                    source.frames_sent += 1
                    index += 1
                    time.sleep(1 / source.fps)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def serving_mjpeg(source: MjpegSource) -> Iterator[str]:
    """The stream's URL until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(source))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
    finally:
        source.down.set()
        server.shutdown()
        server.server_close()


SIMULATED_IDENTITY = "serial:generic:ANCHANG-SIM-1"
SIMULATED_USER = "viewer"
FPS = 10


def lobby_frame(visitor: npt.NDArray[np.uint8] | None, dx: int = 0) -> npt.NDArray[np.uint8]:
    """A 640×480 lobby, with the visitor's face at (200 + dx, 120) when given."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    cv2.rectangle(frame, (0, 400), (640, 480), (60, 70, 80), -1)
    if visitor is not None:
        h, w = visitor.shape[:2]
        frame[120:120 + h, 200 + dx:200 + dx + w] = visitor
    return frame


def lobby_scene(assets_dir: Path = assets.DEFAULT_DIR) -> list[npt.NDArray[np.uint8]]:
    """Eight seconds at 10 fps: an empty lobby, a visitor crossing it for three seconds,
    the empty lobby again."""
    small = cv2.imread(str(assets.path_of(assets.PORTRAIT, assets_dir)))
    if small is None:
        raise assets.AssetError("the portrait does not decode")
    visitor = np.asarray(cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
                         dtype=np.uint8)
    empty = lobby_frame(None)
    return ([empty] * 2 * FPS + [lobby_frame(visitor, dx=6 * i) for i in range(3 * FPS)]
            + [empty] * 3 * FPS)


async def _record(session: AsyncSession, settings: EdgeSettings, url: str,
                  password: str) -> Camera:
    now = utcnow()
    camera = (await session.exec(
        select(Camera).where(col(Camera.identity) == SIMULATED_IDENTITY))).first()
    if camera is None:
        camera = Camera(identity=SIMULATED_IDENTITY, serial="ANCHANG-SIM-1", brand="generic",
                        manufacturer="Anchang", model="模拟摄像机", host="127.0.0.1",
                        onvif_port=80, name="大堂入口（模拟）", status="confirmed",
                        onvif_state="ok", discovered_at=now, last_seen_at=now,
                        confirmed_at=now, updated_at=now)
    camera.profiles = [{"token": "sim", "name": "simulated", "encoding": "JPEG",
                        "width": 640, "height": 480, "fps": FPS, "stream_uri": url}]
    camera.username = SIMULATED_USER
    camera.password_enc = settings.cipher.encrypt(password, context=inventory.PASSWORD_CONTEXT)
    camera.updated_at = camera.last_seen_at = now
    session.add(camera)
    await session.flush()
    await inventory.emit_updated(session, settings, camera, now)
    return camera


async def install(store: Store, settings: EdgeSettings, url: str, password: str) -> Camera:
    """Record the simulated camera as confirmed (its URL changes with the port it got)."""
    camera = await store.write(_record, settings, url, password)
    store.outbox_committed()
    return camera
