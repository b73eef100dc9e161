"""The capture service: one reader per confirmed camera, kept in step with the store,
and the readers' health sent up as `camera.health` events (ADR 0040) — when a camera's
state changes (streaming ↔ reconnecting) at the next check, and every few minutes while
it streams, so the console can tell a quiet camera from a dead appliance.

Sampled frames go to the face pipeline when the site uses faces; without it the readers
still run, and their health is what the console's 摄像机 drawer shows.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.cameras import inventory
from edge_agent.cameras.capture import CameraReader, CaptureHealth, FrameSink, IdleSink
from edge_agent.cameras.firmware import with_credentials
from edge_agent.cameras.models import Camera
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from shared.aio import wait_event
from shared.cameras import CAMERA_HEALTH, CameraHealth
from shared.timeutil import utcnow

log = structlog.get_logger()
MIN_CAPTURE_WIDTH = 640  # the smallest stream that still shows a face at the door


def stream_of(camera: Camera) -> str | None:
    """The stream the reader opens (without credentials): the profile the engineer chose,
    else the smallest one at least 640 wide (a sub-stream: cheaper to decode, enough for
    faces), else the largest there is."""
    streams = [p for p in camera.profiles if p.get("stream_uri")]
    if camera.capture_profile:
        chosen = [p for p in streams if p.get("token") == camera.capture_profile]
        return str(chosen[0]["stream_uri"]) if chosen else None
    if not streams:
        return None
    wide = [p for p in streams if (p.get("width") or 0) >= MIN_CAPTURE_WIDTH]
    best = (min(wide, key=lambda p: p["width"]) if wide
            else max(streams, key=lambda p: p.get("width") or 0))
    return str(best["stream_uri"])


@dataclass
class _Running:
    reader: CameraReader
    key: tuple[str, float]  # what it was started with: a change restarts it
    sent_state: str | None = None
    sent_at: float = 0.0


async def _capturable(session: AsyncSession) -> list[Camera]:
    query = select(Camera).where(col(Camera.status) == "confirmed",
                                 col(Camera.onvif_state) == "ok")
    return list((await session.exec(query)).all())


async def _emit(session: AsyncSession, settings: EdgeSettings,
                reports: list[CameraHealth]) -> None:
    now = utcnow()
    for report in reports:
        await outbox.append(session, settings.cipher, event_type=CAMERA_HEALTH,
                            event_id=uuid.uuid4(), occurred_at=now,
                            payload=report.model_dump(mode="json"), now=now)


def _event(health: CaptureHealth) -> CameraHealth:
    return CameraHealth(
        camera_id=uuid.UUID(health.camera_id), state=health.state,
        sample_fps=health.sample_fps, fps=health.fps, frames=health.frames,
        last_frame_at=health.last_frame_at, errors=health.errors,
        last_error=health.last_error, last_error_at=health.last_error_at)


class CaptureService:
    def __init__(self, settings: EdgeSettings, store: Store, on_frame: FrameSink,
                 on_idle: IdleSink | None = None,
                 on_stopped: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.store = store
        self._on_frame = on_frame
        self._on_idle = on_idle
        # A camera no longer read: the pipeline finishes its open tracks at once.
        self._on_stopped = on_stopped
        self._running: dict[str, _Running] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._loop(), name="camera-capture")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
        await self._stop_readers(list(self._running))

    async def _loop(self) -> None:
        while not await wait_event(self._stopping, self.settings.camera_health_check_seconds):
            try:
                await self.refresh()
                await self.report()
            except Exception:  # the next check tries again; the readers run on
                log.exception("camera_capture_check_failed")

    async def refresh(self) -> None:
        """Start readers for cameras newly confirmed, restart those whose stream or rate
        changed, stop those no longer in use (their last health says `stopped`)."""
        wanted: dict[str, tuple[tuple[str, float], str]] = {}
        for camera in await self.store.read(_capturable):
            stream = stream_of(camera)
            credentials = inventory.credentials_of(camera, self.settings)
            if stream is None or credentials is None:
                continue
            url = with_credentials(stream, credentials.username, credentials.password)
            wanted[str(camera.id)] = ((stream, camera.sample_fps), url)
        gone = [cid for cid, run in self._running.items()
                if cid not in wanted or wanted[cid][0] != run.key]
        await self._stop_readers(gone)
        for camera_id, (key, url) in wanted.items():
            if camera_id not in self._running:
                reader = CameraReader(camera_id, url, sample_fps=key[1],
                                      on_frame=self._on_frame, on_idle=self._on_idle)
                reader.start()
                self._running[camera_id] = _Running(reader, key)
                log.info("camera_capture_started", camera_id=camera_id, sample_fps=key[1])

    async def _stop_readers(self, camera_ids: list[str]) -> None:
        runs = [self._running.pop(cid) for cid in camera_ids]
        if not runs:
            return
        await asyncio.gather(*(asyncio.to_thread(run.reader.stop) for run in runs))
        if self._on_stopped is not None:
            for run in runs:
                self._on_stopped(run.reader.camera_id)
        await self._send([_event(run.reader.health()) for run in runs])

    def health(self) -> list[CaptureHealth]:
        return [run.reader.health() for run in self._running.values()]

    async def report(self, *, force: bool = False) -> int:
        """Queue the health events that are due; returns how many."""
        now = time.monotonic()
        due = []
        for run in self._running.values():
            health = run.reader.health()
            if health.state == "starting":
                continue  # not yet anything to say
            if (force or health.state != run.sent_state
                    or now - run.sent_at >= self.settings.camera_health_report_seconds):
                due.append((run, health))
        await self._send([_event(health) for _, health in due])
        for run, health in due:
            run.sent_state, run.sent_at = health.state, now
        return len(due)

    async def _send(self, reports: list[CameraHealth]) -> None:
        if reports:
            await self.store.write(_emit, self.settings, reports)
            self.store.outbox_committed()
