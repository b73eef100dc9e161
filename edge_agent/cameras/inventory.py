"""The store half of discovery: the camera records, matched by identity (MAC, else
serial, else WS-Discovery endpoint), merged when one device shows up under two records,
and every public change sent up as a `camera.updated` event in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.cameras.inspection import Credentials, Inspection
from edge_agent.cameras.models import Camera
from edge_agent.settings import EdgeSettings
from edge_agent.store import outbox
from shared.cameras import CAMERA_REMOVED, CAMERA_UPDATED, CameraRemoved, CameraUpdated

PASSWORD_CONTEXT = "camera.password"


def identity_of(camera: Camera) -> str:
    if camera.mac:
        return f"mac:{camera.mac}"
    if camera.serial:
        return f"serial:{camera.brand}:{camera.serial}"
    if camera.endpoint:
        return f"endpoint:{camera.endpoint}"
    return f"endpoint:http://{camera.host}:{camera.onvif_port}"


def credentials_of(camera: Camera, settings: EdgeSettings) -> Credentials | None:
    if camera.username is None or camera.password_enc is None:
        return None
    return Credentials(camera.username,
                       settings.cipher.decrypt(camera.password_enc, context=PASSWORD_CONTEXT))


def public_record(camera: Camera) -> CameraUpdated:
    """What the cloud is told: the model refuses credentials in it."""
    return CameraUpdated(
        camera_id=camera.id, identity=camera.identity, mac=camera.mac, serial=camera.serial,
        brand=camera.brand, manufacturer=camera.manufacturer, model=camera.model,
        firmware=camera.firmware, host=camera.host, onvif_port=camera.onvif_port,
        name=camera.name, status=camera.status,
        onvif_state=camera.onvif_state,
        last_error=camera.last_error, has_credentials=camera.password_enc is not None,
        profiles=camera.profiles,
        discovered_at=camera.discovered_at, confirmed_at=camera.confirmed_at)


async def all_cameras(session: AsyncSession) -> list[Camera]:
    query = select(Camera).order_by(col(Camera.status), col(Camera.host), col(Camera.id))
    return list((await session.exec(query)).all())


async def emit_updated(session: AsyncSession, settings: EdgeSettings, camera: Camera,
                       now: datetime) -> None:
    await outbox.append(session, settings.cipher, event_type=CAMERA_UPDATED,
                        event_id=uuid.uuid4(), occurred_at=now,
                        payload=public_record(camera).model_dump(mode="json"), now=now)


async def _candidates(session: AsyncSession, inspection: Inspection) -> list[Camera]:
    """Records that may be this device, best first: same MAC, same serial of the brand,
    same WS-Discovery endpoint, or an unidentified record at the same address. A record
    with another MAC is another device, whatever else it shares."""
    report = inspection.report
    mac, serial = (report.mac, report.serial) if report else (None, None)
    clauses: list[ColumnElement[bool]] = [(col(Camera.host) == inspection.host)
               & (col(Camera.onvif_port) == inspection.port)
               & col(Camera.mac).is_(None) & col(Camera.serial).is_(None)]
    if mac:
        clauses.append(col(Camera.mac) == mac)
    if serial:
        clauses.append(col(Camera.serial) == serial)
    if inspection.endpoint:
        clauses.append(col(Camera.endpoint) == inspection.endpoint)
    rows = (await session.exec(select(Camera).where(or_(*clauses)))).all()

    def rank(row: Camera) -> int:
        if mac and row.mac == mac:
            return 0
        if serial and row.serial == serial:
            return 1
        return 2 if inspection.endpoint and row.endpoint == inspection.endpoint else 3

    return sorted((r for r in rows if not (mac and r.mac and r.mac != mac)), key=rank)


def _apply(camera: Camera, inspection: Inspection, settings: EdgeSettings,
           now: datetime) -> None:
    camera.host, camera.onvif_port, camera.last_seen_at = inspection.host, inspection.port, now
    if inspection.endpoint:
        camera.endpoint = inspection.endpoint
    report = inspection.report
    if report is not None:
        camera.brand = inspection.brand.brand
        camera.mac = report.mac or camera.mac
        camera.serial = report.serial or camera.serial
        camera.manufacturer, camera.model = report.manufacturer, report.model
        camera.firmware = report.firmware
        camera.profiles = [
            {"token": p.token, "name": p.name, "encoding": p.encoding, "width": p.width,
             "height": p.height, "fps": p.fps, "stream_uri": p.stream_uri}
            for p in report.profiles]
        camera.onvif_state, camera.last_error = "ok", None
    elif inspection.state != "no_credentials" or camera.password_enc is None:
        # No credentials tried says nothing about a camera whose stored ones worked.
        camera.onvif_state, camera.last_error = inspection.state, inspection.error
    if inspection.credentials is not None:
        camera.username = inspection.credentials.username
        camera.password_enc = settings.cipher.encrypt(
            inspection.credentials.password, context=PASSWORD_CONTEXT)
    camera.identity = identity_of(camera)


def _absorb(keeper: Camera, twin: Camera) -> None:
    """What the surviving record takes over from a record of the same device."""
    if twin.status == "confirmed" and keeper.status != "confirmed":
        keeper.status, keeper.name, keeper.confirmed_at = "confirmed", twin.name, twin.confirmed_at
    if keeper.password_enc is None and twin.password_enc is not None:
        keeper.username, keeper.password_enc = twin.username, twin.password_enc
    keeper.discovered_at = min(keeper.discovered_at, twin.discovered_at)
    keeper.endpoint = keeper.endpoint or twin.endpoint


async def record(session: AsyncSession, settings: EdgeSettings, inspection: Inspection,
                 now: datetime) -> Camera:
    """Create or update the record of the inspected camera (merging twins) and queue the
    events of what changed, in the caller's transaction."""
    found = await _candidates(session, inspection)
    camera = found[0] if found else Camera(
        identity="", brand=inspection.brand.brand, host=inspection.host,
        onvif_port=inspection.port, discovered_at=now, last_seen_at=now, updated_at=now)
    before = public_record(camera).model_dump() if found else None
    for twin in found[1:]:
        _absorb(camera, twin)
        await session.delete(twin)
        await session.flush()  # the twin's identity and MAC are free before ours change
        await outbox.append(session, settings.cipher, event_type=CAMERA_REMOVED,
                            event_id=uuid.uuid4(), occurred_at=now, now=now,
                            payload=CameraRemoved(camera_id=twin.id, merged_into=camera.id)
                            .model_dump(mode="json"))
    _apply(camera, inspection, settings, now)
    session.add(camera)
    if before != public_record(camera).model_dump():
        camera.updated_at = now
        await emit_updated(session, settings, camera, now)
    await session.flush()
    return camera
