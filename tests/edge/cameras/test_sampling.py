"""The reader's sampling rate on a live stream whose frames arrive with jitter and whose
consumer now and then takes longer than a sampling interval, as an embedding waiting
behind other cameras' on the engine's lock does. The stream is a fake capture on the
reader's injected clock, so the timing is exact and nothing sleeps; the reader's loop
and its sampler are the real ones."""

from __future__ import annotations

import random
import threading
from datetime import datetime
from typing import cast

import cv2
import numpy as np

from edge_agent.cameras import capture
from edge_agent.cameras.capture import CameraReader, Sampler

SOURCE_FPS = 10
SAMPLE_FPS = 5.0
JITTER = 0.02  # ± seconds around each frame's nominal arrival


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def arrivals(frames: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return sorted(k / SOURCE_FPS + rng.uniform(-JITTER, JITTER) for k in range(frames))


class LiveStream:
    """`cv2.VideoCapture` as the reader uses it on a live camera: `grab` waits for the
    next frame (the clock moves to its arrival), or returns at once with a frame that
    queued while the consumer was busy; then the stream ends."""

    def __init__(self, clock: Clock, times: list[float]) -> None:
        self.clock, self.times = clock, times
        self.grabbed = 0
        self.ended = threading.Event()

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's names
        return True

    def get(self, prop: int) -> float:
        return 0.0

    def grab(self) -> bool:
        if self.grabbed == len(self.times):
            self.ended.set()
            return False
        self.clock.now = max(self.clock.now, self.times[self.grabbed])
        self.grabbed += 1
        return True

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, np.zeros((4, 4, 3), np.uint8)

    def release(self) -> None:
        return None


class SlowNowAndThen:
    """The consumer: every `every`-th frame takes `stall` seconds of the clock."""

    def __init__(self, clock: Clock, every: int, stall: float) -> None:
        self.clock, self.every, self.stall = clock, every, stall
        self.times: list[float] = []

    def __call__(self, camera_id: str, frame: np.ndarray, at: datetime) -> None:
        self.times.append(self.clock.now)
        self.clock.now += 0.015 + (self.stall if len(self.times) % self.every == 0 else 0.0)


def read_all(frames: int, consumer_every: int, stall: float) -> list[float]:
    clock = Clock()
    stream = LiveStream(clock, arrivals(frames))
    consumer = SlowNowAndThen(clock, consumer_every, stall)
    reader = CameraReader("cam-jitter", "rtsp://camera/stream1", sample_fps=SAMPLE_FPS,
                          on_frame=consumer, opener=lambda _: cast(cv2.VideoCapture, stream),
                          clock=clock)
    reader.start()
    try:
        assert stream.ended.wait(10), "the reader did not read the stream to its end"
    finally:
        reader.stop()
    return consumer.times


def test_a_consumer_slower_than_an_interval_now_and_then_costs_no_samples() -> None:
    frames = 200  # 20 s of the camera: 100 samples at 5 a second
    # Every tenth sample takes 350 ms, as a fourth camera's embedding waits for three.
    times = read_all(frames, consumer_every=10, stall=0.35)
    rate = len(times) / (frames / SOURCE_FPS)
    assert 4.9 <= rate <= SAMPLE_FPS + 1 / (frames / SOURCE_FPS), rate


def test_a_stall_longer_than_the_catch_up_starts_the_schedule_again() -> None:
    times = read_all(200, consumer_every=25, stall=3.0)
    # The frames queued over a 3 s stall are not handed on back to back to make up for
    # it: no second has more samples than the rate.
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= SAMPLE_FPS + 1, busiest
    assert len(times) < 100 - 2 * SAMPLE_FPS * capture.CATCH_UP_SECONDS  # given up


def test_takes_the_frame_nearest_the_schedule() -> None:
    sampler = Sampler(SAMPLE_FPS)
    taken = [t for t in arrivals(400) if sampler.take(t)]
    gaps = np.diff(taken)
    # Every other frame, never one late: 200 ms apart give or take the jitter, not the
    # 100 / 300 ms a first-frame-after-due rule gives when a frame comes a little early.
    assert abs(len(taken) - 200) <= 1
    assert gaps.min() >= 0.2 - 2 * JITTER - 1e-9 and gaps.max() <= 0.2 + 2 * JITTER + 1e-9, (
        gaps.min(), gaps.max())


def test_never_faster_than_asked_on_a_faster_camera() -> None:
    sampler = Sampler(SAMPLE_FPS)
    rng = random.Random(3)
    times = sorted(k / 30 + rng.uniform(-0.01, 0.01) for k in range(900))  # 30 s at 30 fps
    taken = [t for t in times if sampler.take(t)]
    assert 149 <= len(taken) <= 151
