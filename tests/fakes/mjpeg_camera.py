"""A live MJPEG-over-HTTP video source, as many IP cameras serve besides RTSP
(`multipart/x-mixed-replace`, one JPEG per part). It plays a scene — a list of frames —
at a fixed rate, looping, and can go down and come back, so the capture reader's
reconnect is tested against a real socket and FFmpeg's real demuxer."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import numpy.typing as npt

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
