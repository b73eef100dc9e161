"""What the field engineer does with cameras: scan the LAN, add one by address, give
credentials, confirm (with its place) or ignore. Network first, then one transaction."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.cameras import inventory
from edge_agent.cameras.errors import (
    FAILURES,
    CameraNotFound,
    CameraNotReady,
    CameraProfileUnknown,
)
from edge_agent.cameras.firmware import FirmwareConfigs
from edge_agent.cameras.inspection import (
    Credentials,
    Inspection,
    Target,
    device_address,
    inspect,
    inspect_many,
    probe_lan,
)
from edge_agent.cameras.models import Camera
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.timeutil import utcnow


async def _record_all(session: AsyncSession, settings: EdgeSettings,
                      inspections: list[Inspection]) -> list[Camera]:
    now = utcnow()
    recorded: dict[uuid.UUID, Camera] = {}
    for inspection in inspections:
        camera = await inventory.record(session, settings, inspection, now)
        recorded[camera.id] = camera
    return list(recorded.values())


async def scan(store: Store, settings: EdgeSettings, configs: FirmwareConfigs, *,
               multicast: bool, addresses: list[str],
               credentials: Credentials | None) -> list[Camera]:
    """Probe, ask every camera that answered (with the credentials stored for it, else the
    given ones: a site-wide account typed for the new cameras must not mark a camera
    with its own working password as refused), record them; returns the cameras found."""
    matches = await probe_lan(settings, multicast=multicast, addresses=addresses)
    known = await store.read(inventory.all_cameras)
    targets = []
    for match in matches:
        address = device_address(match)
        if address is None:
            continue
        host, port = address
        existing = next((c for c in known if c.endpoint == match.endpoint), None) or next(
            (c for c in known if (c.host, c.onvif_port) == address), None)
        hint = (configs.get(existing.brand) if existing is not None
                else configs.identify(manufacturer=match.scope("name"), mac=None))
        stored = inventory.credentials_of(existing, settings) if existing is not None else None
        targets.append(Target(host, port, match.endpoint, hint, stored or credentials))
    inspections = await inspect_many(settings, configs, targets)
    cameras = await store.write(_record_all, settings, inspections)
    store.outbox_committed()
    return cameras


def _raise_failure(inspection: Inspection) -> None:
    failure = FAILURES.get(inspection.state)
    if failure is not None:
        raise failure(extra={"error": inspection.error} if inspection.error else None)


async def add(store: Store, settings: EdgeSettings, configs: FirmwareConfigs, *,
              host: str, port: int, credentials: Credentials) -> Camera:
    """A camera WS-Discovery does not reach (another subnet, multicast filtered): asked
    directly; nothing is recorded unless it answers."""
    inspection = await inspect(settings, configs, Target(
        host, port, None, configs.get("generic"), credentials))
    _raise_failure(inspection)
    [camera] = await store.write(_record_all, settings, [inspection])
    store.outbox_committed()
    return camera


async def _get(session: AsyncSession, camera_id: uuid.UUID) -> Camera:
    camera = await session.get(Camera, camera_id)
    if camera is None:
        raise CameraNotFound()
    return camera


async def set_credentials(store: Store, settings: EdgeSettings, configs: FirmwareConfigs,
                          camera_id: uuid.UUID, credentials: Credentials) -> Camera:
    """Try the credentials; they are stored only when the camera accepts them. A refusal
    is recorded (the list shows it) and answered as an error."""
    camera = await store.read(_get, camera_id)
    inspection = await inspect(settings, configs, Target(
        camera.host, camera.onvif_port, camera.endpoint, configs.get(camera.brand),
        credentials))
    [recorded] = await store.write(_record_all, settings, [inspection])
    store.outbox_committed()
    _raise_failure(inspection)
    return recorded


async def _set_status(session: AsyncSession, settings: EdgeSettings, camera_id: uuid.UUID,
                      status: str, name: str | None) -> Camera:
    camera = await _get(session, camera_id)
    now = utcnow()
    if status == "confirmed":
        if camera.onvif_state != "ok":
            raise CameraNotReady(extra={"onvif_state": camera.onvif_state})
        camera.confirmed_at = camera.confirmed_at if camera.status == "confirmed" else now
        camera.name = name
    else:
        camera.confirmed_at = None
    camera.status, camera.updated_at = status, now
    session.add(camera)
    await inventory.emit_updated(session, settings, camera, now)
    await session.flush()
    return camera


async def confirm(store: Store, settings: EdgeSettings, camera_id: uuid.UUID,
                  name: str) -> Camera:
    camera = await store.write(_set_status, settings, camera_id, "confirmed", name)
    store.outbox_committed()
    return camera


async def ignore(store: Store, settings: EdgeSettings, camera_id: uuid.UUID) -> Camera:
    camera = await store.write(_set_status, settings, camera_id, "ignored", None)
    store.outbox_committed()
    return camera


async def _set_capture(session: AsyncSession, camera_id: uuid.UUID, sample_fps: float,
                       profile_token: str | None) -> Camera:
    camera = await _get(session, camera_id)
    tokens = {p.get("token") for p in camera.profiles if p.get("stream_uri")}
    if profile_token is not None and profile_token not in tokens:
        raise CameraProfileUnknown(extra={"profiles": sorted(t for t in tokens if t)})
    camera.sample_fps, camera.capture_profile = sample_fps, profile_token
    camera.updated_at = utcnow()
    session.add(camera)
    await session.flush()
    return camera


async def set_capture(store: Store, camera_id: uuid.UUID, *, sample_fps: float,
                      profile_token: str | None) -> Camera:
    """How the camera is read; the capture service restarts its reader at its next check.
    Not sent up: the camera's health reports the rate it runs at."""
    return await store.write(_set_capture, camera_id, sample_fps, profile_token)


async def list_cameras(store: Store) -> list[Camera]:
    return await store.read(inventory.all_cameras)

