"""One reader per camera: a thread that keeps the camera's stream open with OpenCV
(headless, FFmpeg backend), samples frames at the camera's rate, hands them on, and
reconnects with back-off when the stream fails. Its health (state, measured fps, last
frame, errors) is read by the capture service, which reports it up (ADR 0040).

A thread, not a task: `VideoCapture.read` blocks in C (releasing the GIL) and cannot be
awaited. Frames between samples are only grabbed (demuxed and decoded, not converted),
so a live stream never backs up behind a slow consumer.

The consumer (the face pipeline) runs in the reader's thread, and one of its calls can
take longer than a sampling interval (an embedding waiting behind other cameras' on the
engine's lock); the frames of the stream queue meanwhile. The sampler therefore keeps
its schedule through such a stall and catches up from the queued frames, instead of
starting the schedule again from the late frame and losing the samples it missed
(`Sampler`).

The readers open their streams side by side: OpenCV's FFmpeg backend holds one
process-wide lock around an open unless told FFmpeg is thread-safe (it is since FFmpeg
4; the wheel's is 8). Under that lock an RTSP open — FFmpeg probing about 3 s of the
stream — made the fourth camera wait 9 s behind the other three, and an unreachable
camera held every other camera's reconnect for its whole open time-out.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

import cv2
import numpy as np
import structlog

from edge_agent.faces.engine import Frame

# Read by OpenCV at each open; set before any. OpenCV warns of it on every open.
os.environ.setdefault("OPENCV_FFMPEG_IS_THREAD_SAFE", "1")

log = structlog.get_logger()

CaptureState = Literal["starting", "streaming", "reconnecting", "stopped"]
# Back-off between attempts to (re)open a stream: 1 s doubling to 60 s, ±20 % jitter so
# cameras that dropped together (a switch reboot) do not all come back at once.
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
BACKOFF_JITTER = 0.2
OPEN_TIMEOUT_MS = 10_000
READ_TIMEOUT_MS = 10_000
FPS_WINDOW_SECONDS = 10.0
ERROR_TEXT_MAX = 200
# How far behind its schedule the sampler catches up from the frames queued while its
# consumer was busy; further behind (the stream stalled, the appliance is overloaded)
# it starts the schedule again rather than hand on a second of frames back to back.
CATCH_UP_SECONDS = 1.0
GAP_WINDOW = 21  # frame gaps whose median is the source's frame interval

_JITTER = random.Random()

FrameSink = Callable[[str, Frame, datetime], None]
IdleSink = Callable[[str, datetime], None]


@dataclass(frozen=True)
class CaptureHealth:
    camera_id: str
    state: CaptureState
    sample_fps: float  # the rate asked for
    fps: float  # frames sampled per second over the last FPS_WINDOW_SECONDS
    frames: int  # sampled since the reader started
    last_frame_at: datetime | None
    errors: int  # failed opens and broken streams since the reader started
    last_error: str | None
    last_error_at: datetime | None


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempt` (1 = the first retry)."""
    base = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2.0 ** max(0, attempt - 1))
    jitter = (rng or _JITTER).uniform(-BACKOFF_JITTER, BACKOFF_JITTER)
    return base * (1 + jitter)


class Sampler:
    """Which of a stream's frames to hand on, `sample_fps` of them a second, from each
    frame's arrival time (the clock after its `grab`).

    The schedule advances by exactly one interval per sample, so the long-run rate is the
    asked one and never above it. A frame is taken from half the source's frame interval
    before its due time: the frame nearest the schedule, not the first one after it
    (which, with a few milliseconds of jitter, is one source frame late). Behind by up
    to CATCH_UP_SECONDS, the sampler takes the queued frames that are due; further
    behind, it starts the schedule again."""

    def __init__(self, sample_fps: float) -> None:
        self.interval = 1.0 / sample_fps
        self._due: float | None = None
        self._last: float | None = None
        self._gaps: deque[float] = deque(maxlen=GAP_WINDOW)

    def take(self, arrived: float) -> bool:
        if self._last is not None:
            self._gaps.append(arrived - self._last)
        self._last = arrived
        if self._due is None:
            self._due = arrived
        # A median: frames drained in a burst after a stall (gaps ~0) and the stall
        # itself (one long gap) do not move it.
        early = min(statistics.median(self._gaps), self.interval) / 2 if self._gaps else 0.0
        if arrived < self._due - early:
            return False
        if arrived - self._due > CATCH_UP_SECONDS:
            self._due = arrived
        self._due += self.interval
        return True


def open_stream(url: str) -> cv2.VideoCapture:
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG, [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS,
        cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS,
    ])


class CameraReader:
    """Reads one camera until `stop()`. `url` carries the credentials (only in memory:
    `firmware.with_credentials`); it is never logged, only the camera id is."""

    def __init__(self, camera_id: str, url: str, *, sample_fps: float, on_frame: FrameSink,
                 on_idle: IdleSink | None = None, realtime_file: bool = False,
                 opener: Callable[[str], cv2.VideoCapture] = open_stream,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if sample_fps <= 0:
            raise ValueError("sample_fps must be positive")
        self._sample_fps = sample_fps
        self.camera_id = camera_id
        self._url = url
        self._on_frame = on_frame
        self._on_idle = on_idle
        # A file plays as fast as it decodes; paced at its own fps it behaves as a camera.
        self._realtime_file = realtime_file
        self._opener = opener
        self._clock = clock  # the tests' own: the sampler's timing without sleeping
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sampled: deque[float] = deque()
        self._health = CaptureHealth(camera_id, "starting", sample_fps, 0.0, 0, None, 0,
                                     None, None)
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera_id[:8]}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def health(self) -> CaptureHealth:
        now = self._clock()
        with self._lock:
            while self._sampled and now - self._sampled[0] > FPS_WINDOW_SECONDS:
                self._sampled.popleft()
            span = min(FPS_WINDOW_SECONDS, now - self._sampled[0]) if self._sampled else 0
            fps = len(self._sampled) / span if span > 0 and len(self._sampled) > 1 else 0.0
            return replace(self._health, fps=round(fps, 2))

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._health = replace(self._health, **changes)  # type: ignore[arg-type]

    def _fail(self, error: str) -> None:
        with self._lock:
            self._health = replace(self._health, state="reconnecting",
                                   errors=self._health.errors + 1,
                                   last_error=error[:ERROR_TEXT_MAX],
                                   last_error_at=datetime.now(UTC))
        log.warning("camera_stream_failed", camera_id=self.camera_id, error=error)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            if attempt:
                if self._on_idle is not None:
                    self._on_idle(self.camera_id, datetime.now(UTC))
                if self._stop.wait(backoff_delay(attempt)):
                    break
            attempt += 1
            try:
                if self._read_stream():
                    attempt = 1  # it streamed: the next retry starts from the first delay
            except Exception as exc:  # a sink or decoder error must not end the reader
                self._fail(f"{type(exc).__name__}: {exc}")
        self._set(state="stopped")

    def _read_stream(self) -> bool:
        """Stream until it fails or we are stopped; True when at least a frame came."""
        capture = self._opener(self._url)
        try:
            if not capture.isOpened():
                self._fail("open_failed")
                return False
            sampler = Sampler(self._sample_fps)
            pace = 0.0
            if self._realtime_file:
                fps = capture.get(cv2.CAP_PROP_FPS)
                pace = 1.0 / fps if fps and fps > 0 else sampler.interval
            got_any = False
            while not self._stop.is_set():
                started = self._clock()
                if not capture.grab():
                    self._fail("stream_ended" if got_any else "no_frames")
                    return got_any
                if sampler.take(self._clock()):
                    ok, image = capture.retrieve()
                    if not ok or image is None:
                        self._fail("decode_failed")
                        return got_any
                    got_any = True
                    self._sampled_one()
                    frame: Frame = np.asarray(image, dtype=np.uint8)
                    self._on_frame(self.camera_id, frame, datetime.now(UTC))
                if pace:
                    self._stop.wait(max(0.0, pace - (self._clock() - started)))
            return got_any
        finally:
            capture.release()

    def _sampled_one(self) -> None:
        now = self._clock()
        with self._lock:
            self._sampled.append(now)
            self._health = replace(self._health, state="streaming",
                                   frames=self._health.frames + 1,
                                   last_frame_at=datetime.now(UTC))
