"""What the faces bench measures (tests/bench/test_faces_bench.py): the engine's work per
frame and its bare calls, an RTSP stream's decode alone, and N cameras read at once by
the appliance's own readers into its own FaceService, with the time from the embedded
frame to its committed sighting."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from edge_agent.cameras.capture import CameraReader, open_stream
from edge_agent.faces import sightings
from edge_agent.faces.engine import Frame
from edge_agent.faces.pipeline import FacePipeline
from edge_agent.faces.service import FaceService
from edge_agent.faces.tracking import Track
from edge_agent.faces.yunet_dlib import YuNetDlibEngine
from shared.timeutil import utcnow
from tests.bench.cpu import tree_cpu_seconds

SAMPLE_FPS = 5.0
SUSTAINED = 0.95  # of SAMPLE_FPS: a camera keeps up when it samples ≥ 4.75 a second
# The window starts once every reader has its first frame (an RTSP open probes ~3 s of
# the stream), and this much later: past the burst of the frames FFmpeg buffered while
# probing, handed out at once after the open.
WARMUP_SECONDS = 2.0
OPEN_WAIT_SECONDS = 60.0
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass(frozen=True)
class Timed:
    """One call repeated: wall seconds of each, and CPU seconds of the process per call
    (OpenCV's own threads included; what the machine's other work cannot inflate)."""

    wall: list[float]
    cpu: float


def _timed(call: Callable[[], object], times: int) -> Timed:
    """Nothing else of ours runs meanwhile, so the process's CPU is the call's."""
    wall, cpu = [], time.process_time()
    for _ in range(times):
        started = time.perf_counter()
        call()
        wall.append(time.perf_counter() - started)
    return Timed(wall, (time.process_time() - cpu) / times)


@dataclass(frozen=True)
class PerFrame:
    detect: Timed  # bare YuNet on a 640×480 frame (with and without a face)
    embed: Timed  # bare dlib embedding of one face
    pipeline: Timed  # FacePipeline.process: detect, track, gates, embed once a track
    embeddings: int


def per_frame(engine: YuNetDlibEngine, scene: Sequence[Frame], frames: int) -> PerFrame:
    sampled = list(scene[::2])  # the camera's 10 a second sampled at 5
    cycle = [sampled[i % len(sampled)] for i in range(frames)]
    detect_next = iter(cycle)
    detect = _timed(lambda: engine.detect(next(detect_next)), len(cycle))
    with_face = [f for f in sampled if engine.detect(f)]
    face_frame = with_face[len(with_face) // 2]
    face = engine.detect(face_frame)[0]
    embed = _timed(lambda: engine.embed(face_frame, face), max(5, frames // 10))

    def finished(track: Track) -> None:
        return None

    pipeline = FacePipeline(engine, finished, lost_after=timedelta(seconds=1))
    process_next = iter(enumerate(cycle))

    def process() -> None:  # one visitor every pass of the scene, as live
        i, frame = next(process_next)
        pipeline.process("bench", frame, T0 + timedelta(seconds=i / SAMPLE_FPS))

    return PerFrame(detect, embed, _timed(process, len(cycle)),
                    pipeline.counts["embeddings"])


@dataclass(frozen=True)
class Decode:
    frames: int
    fps: float  # as the camera sends them
    cpu_per_frame: float  # process CPU seconds per frame, FFmpeg's threads included
    cpu_per_frame_with_detect: float  # the same loop calling the detector on each frame


def bare_decode(url: str, engine: YuNetDlibEngine, frames: int) -> Decode:
    """OpenCV alone on the camera's stream: read every frame; then read and detect."""
    def loop(detect: bool) -> tuple[float, float]:
        capture = open_stream(url)
        try:
            opened = time.monotonic()
            while time.monotonic() - opened < 1.5:  # past the burst a new session gets
                capture.read()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(frames):
                ok, image = capture.read()
                if not ok:
                    raise RuntimeError("the RTSP camera stopped sending")
                if detect:
                    engine.detect(np.asarray(image, dtype=np.uint8))
            return time.perf_counter() - wall, time.process_time() - cpu
        finally:
            capture.release()

    wall, cpu = loop(detect=False)
    _, cpu_detect = loop(detect=True)
    return Decode(frames, frames / wall, cpu / frames, cpu_detect / frames)


@dataclass
class CamerasRun:
    cameras: int
    seconds: float
    fps: list[float]  # sampled frames a second of each camera over the window
    errors: int
    cpu: float  # this process's CPU seconds over the window (readers, engine, store)
    server_cpu: float  # the RTSP camera's (one shared encoder)
    opened: float  # seconds from starting the readers to the last one's first frame
    latencies: list[float] = field(default_factory=list)  # embedded frame → committed

    @property
    def sustained(self) -> bool:
        return bool(self.fps) and min(self.fps) >= SAMPLE_FPS * SUSTAINED


class Latencies:
    """Wraps FaceService.on_track: the embedded frame's time to its committed sighting.
    A track is recorded when embedded, and its `last_seen` is then the embedded frame."""

    def __init__(self, service: FaceService) -> None:
        self.values: list[float] = []
        self._service = service
        self._on_track = service.on_track
        service.on_track = self._timed  # type: ignore[method-assign]

    def restore(self) -> None:
        self._service.on_track = self._on_track  # type: ignore[method-assign]

    async def _timed(self, seen: sightings.Seen) -> sightings.Recorded | None:
        recorded = await self._on_track(seen)
        self.values.append((utcnow() - seen.last_seen).total_seconds())
        return recorded


async def run_cameras(service: FaceService, url: str, cameras: int, seconds: float,
                      server_pid: int) -> CamerasRun:
    """`cameras` readers at SAMPLE_FPS on the RTSP camera, each its own session and id,
    all into the one FaceService, as the capture service runs them."""
    latencies = Latencies(service)
    readers = [CameraReader(str(uuid.uuid4()), url, sample_fps=SAMPLE_FPS,
                            on_frame=service.on_frame, on_idle=service.on_idle)
               for _ in range(cameras)]
    launched = time.monotonic()
    for reader in readers:
        reader.start()
    try:
        while not all(r.health().frames for r in readers):
            if time.monotonic() - launched > OPEN_WAIT_SECONDS:
                raise RuntimeError(f"not every reader streamed within {OPEN_WAIT_SECONDS} s")
            await asyncio.sleep(0.05)
        opened = time.monotonic() - launched
        await asyncio.sleep(WARMUP_SECONDS)
        before = [r.health().frames for r in readers]
        cpu, server = time.process_time(), tree_cpu_seconds(server_pid)
        latencies.values.clear()
        started = time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        after = [r.health() for r in readers]
        cpu, server = time.process_time() - cpu, tree_cpu_seconds(server_pid) - server
    finally:
        for reader in readers:
            await asyncio.to_thread(reader.stop)
            service.on_stopped(reader.camera_id)
        latencies.restore()
    return CamerasRun(cameras, elapsed,
                      [(h.frames - b) / elapsed for h, b in zip(after, before, strict=True)],
                      sum(h.errors for h in after), cpu, server, opened,
                      list(latencies.values))


async def bare_record(service: FaceService, engine: YuNetDlibEngine, frame: Frame,
                      times: int) -> list[float]:
    """Matching and committing one sighting alone (FaceService.on_track, no camera)."""
    face = engine.detect(frame)[0]
    embedding = engine.embed(frame, face)
    spent = []
    for _ in range(times):
        now = utcnow()
        seen = sightings.Seen(uuid.uuid4(), now, now, embedding.copy())
        started = time.perf_counter()
        await service.on_track(seen)
        spent.append(time.perf_counter() - started)
    return spent


def ms(values: Sequence[float], q: float | None = None) -> str:
    value = statistics.fmean(values) if q is None else quantile(values, q)
    return f"{1000 * value:,.1f} ms"
