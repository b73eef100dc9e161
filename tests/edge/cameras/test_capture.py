"""The capture reader against real streams: MJPEG over HTTP from a local server (FFmpeg's
own demuxer, a real socket), H.264 over RTSP from GStreamer's RTSP server (a camera's
own protocol, basic auth) and a video file; reconnect with back-off after the stream
goes away or the camera is killed and restarted; health as the capture service reads
it."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.cameras import capture
from edge_agent.cameras.capture import CameraReader, backoff_delay
from edge_agent.cameras.simulated import MjpegSource, serving_mjpeg
from tests.fakes.rtsp import RtspCamera


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


class Frames:
    def __init__(self) -> None:
        self.items: list[tuple[str, tuple[int, ...], datetime]] = []
        self.lock = threading.Lock()

    def __call__(self, camera_id: str, frame: np.ndarray, at: datetime) -> None:
        with self.lock:
            self.items.append((camera_id, frame.shape, at))

    def __len__(self) -> int:
        return len(self.items)


def _scene(n: int = 4) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        frame = np.full((240, 320, 3), (40 + 40 * i) % 256, np.uint8)
        cv2.putText(frame, str(i), (120, 140), cv2.FONT_HERSHEY_SIMPLEX, 3, (255, 255, 255), 4)
        frames.append(frame)
    return frames


def test_backoff_doubles_to_a_ceiling_with_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, rng) for n in range(1, 12)]
    for attempt, delay in enumerate(delays, start=1):
        base = min(capture.BACKOFF_MAX_SECONDS, capture.BACKOFF_FIRST_SECONDS * 2 ** (attempt - 1))
        assert base * 0.8 <= delay <= base * 1.2
    assert max(delays) <= capture.BACKOFF_MAX_SECONDS * 1.2
    assert delays[-1] > 40  # it reached the ceiling instead of hammering the camera


def test_samples_a_live_mjpeg_stream_at_the_cameras_rate() -> None:
    source = MjpegSource(_scene(), fps=12)
    frames = Frames()
    with serving_mjpeg(source) as url:
        reader = CameraReader("cam-a", url, sample_fps=3, on_frame=frames)
        reader.start()
        try:
            wait_until(lambda: len(frames) >= 7)
            health = reader.health()
        finally:
            reader.stop()
    assert health.state == "streaming"
    assert 1.5 <= health.fps <= 4.5, health.fps  # sampled, not every one of the 12 fps
    assert source.frames_sent > len(frames)  # the rest were grabbed and dropped
    assert health.errors == 0 and health.last_error is None
    assert health.last_frame_at is not None
    assert {shape for _, shape, _ in frames.items} == {(240, 320, 3)}
    assert reader.health().state == "stopped"


def test_reconnects_after_the_stream_goes_away() -> None:
    source = MjpegSource(_scene(), fps=10)
    frames = Frames()
    with serving_mjpeg(source) as url:
        reader = CameraReader("cam-b", url, sample_fps=5, on_frame=frames)
        reader.start()
        try:
            wait_until(lambda: len(frames) >= 3)
            source.down.set()  # the camera reboots: connection cut, new ones refused
            wait_until(lambda: reader.health().errors >= 1)
            broken = reader.health()
            assert broken.state == "reconnecting"
            assert broken.last_error in {"stream_ended", "open_failed", "no_frames"}
            before = len(frames)
            source.down.clear()
            wait_until(lambda: len(frames) > before + 2, timeout=30)
            back = reader.health()
        finally:
            reader.stop()
    assert back.state == "streaming"
    assert source.connections >= 2


def test_an_unreachable_camera_is_retried_not_given_up() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    frames = Frames()
    reader = CameraReader("cam-c", f"http://127.0.0.1:{port}/video.mjpg", sample_fps=2,
                          on_frame=frames)
    reader.start()
    try:
        wait_until(lambda: reader.health().errors >= 2, timeout=20)  # first retry after ~1 s
        health = reader.health()
    finally:
        reader.stop()
    assert health.state == "reconnecting" and health.last_error == "open_failed"
    assert health.frames == 0 and health.last_frame_at is None and len(frames) == 0


def test_a_video_file_plays_at_its_own_pace_and_loops(tmp_path: Path) -> None:
    path = tmp_path / "lobby.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for frame in _scene(10):  # one second of video
        writer.write(frame)
    writer.release()
    frames = Frames()
    reader = CameraReader("cam-d", str(path), sample_fps=5, on_frame=frames,
                          realtime_file=True)
    started = time.monotonic()
    reader.start()
    try:
        wait_until(lambda: len(frames) >= 8, timeout=20)
        elapsed = time.monotonic() - started
        health = reader.health()
    finally:
        reader.stop()
    assert elapsed >= 1.0  # paced, not decoded as fast as the CPU goes
    assert health.errors >= 1 and health.last_error == "stream_ended"  # the loop reopens


def test_a_failing_consumer_does_not_end_the_reader() -> None:
    source = MjpegSource(_scene(), fps=10)
    calls: list[int] = []

    def explode(camera_id: str, frame: np.ndarray, at: datetime) -> None:
        calls.append(1)
        raise RuntimeError("consumer bug")

    with serving_mjpeg(source) as url:
        reader = CameraReader("cam-e", url, sample_fps=5, on_frame=explode)
        reader.start()
        try:
            wait_until(lambda: len(calls) >= 2, timeout=20)
        finally:
            reader.stop()
    assert reader.health().last_error == "RuntimeError: consumer bug"


def test_sampling_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="sample_fps"):
        CameraReader("cam-f", "http://127.0.0.1:1/x", sample_fps=0, on_frame=Frames())


def test_reads_an_rtsp_camera(rtsp_lobby: RtspCamera) -> None:
    frames = Frames()
    reader = CameraReader("cam-rtsp", rtsp_lobby.url, sample_fps=4, on_frame=frames)
    reader.start()
    try:
        wait_until(lambda: len(frames) >= 8, timeout=20)
        health = reader.health()
    finally:
        reader.stop()
    assert health.state == "streaming" and health.errors == 0
    assert 2.5 <= health.fps <= 5.5, health.fps  # 4 of the camera's 10 a second
    assert {shape for _, shape, _ in frames.items} == {(480, 640, 3)}  # H.264 decoded


def test_a_wrong_rtsp_password_is_an_open_failure(rtsp_lobby: RtspCamera) -> None:
    frames = Frames()
    wrong = rtsp_lobby.url.replace(":rtsp-secret@", ":wrong@")
    reader = CameraReader("cam-rtsp-auth", wrong, sample_fps=2, on_frame=frames)
    reader.start()
    try:
        wait_until(lambda: reader.health().errors >= 1, timeout=20)
        health = reader.health()
    finally:
        reader.stop()
    assert health.last_error == "open_failed" and len(frames) == 0


def test_survives_the_rtsp_camera_being_killed_and_restarted(rtsp_lobby: RtspCamera) -> None:
    frames = Frames()
    idle: list[datetime] = []
    reader = CameraReader("cam-rtsp-reboot", rtsp_lobby.url, sample_fps=5, on_frame=frames,
                          on_idle=lambda _, at: idle.append(at))
    reader.start()
    try:
        wait_until(lambda: len(frames) >= 5, timeout=20)
        rtsp_lobby.kill()  # power cut: no TEARDOWN, the sockets just close
        wait_until(lambda: reader.health().errors >= 1, timeout=20)
        broken = reader.health()
        time.sleep(2)  # down for a while: the reader keeps trying with back-off
        rtsp_lobby.start()  # the same port, as the camera comes back
        before = len(frames)
        wait_until(lambda: len(frames) > before + 5, timeout=60)
        back = reader.health()
    finally:
        reader.stop()
    assert broken.state == "reconnecting"
    assert broken.last_error in {"stream_ended", "open_failed", "no_frames"}
    assert idle  # the pipeline was told the camera went quiet (its tracks can end)
    assert back.state == "streaming" and back.errors >= broken.errors
    assert back.last_frame_at is not None and back.last_error_at is not None
    assert back.last_frame_at > back.last_error_at  # frames again after the errors
    assert rtsp_lobby.starts == 2


def test_readers_open_their_streams_side_by_side(rtsp_lobby: RtspCamera) -> None:
    """Without OpenCV's process-wide lock around FFmpeg's open (capture.py), three
    readers of the RTSP camera open together, not one after another (~3 s each)."""
    opens: list[tuple[float, float]] = []
    lock = threading.Lock()

    def opener(url: str) -> cv2.VideoCapture:
        began = time.monotonic()
        stream = capture.open_stream(url)
        with lock:
            opens.append((began, time.monotonic()))
        return stream

    readers = [CameraReader(f"cam-side-{i}", rtsp_lobby.url, sample_fps=2, on_frame=Frames(),
                            opener=opener) for i in range(3)]
    for reader in readers:
        reader.start()
    try:
        wait_until(lambda: len(opens) >= 3, timeout=40)
    finally:
        for reader in readers:
            reader.stop()
    first = min(began for began, _ in opens)
    done = sorted(end - first for _, end in opens)
    assert done[-1] < 2 * done[0], done  # in turn, the third would take ~3× the first
    assert all(reader.health().errors == 0 for reader in readers)
