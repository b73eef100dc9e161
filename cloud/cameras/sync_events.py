"""The appliance's camera inventory (`camera.updated`, `camera.removed`): each event is a
camera's whole public record, applied as an upsert per (site, camera) in seq order, so a
replayed or resent event changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from cloud.audit import service as audit_service
from cloud.cameras.models import SiteCamera
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.cameras import CAMERA_REMOVED, CAMERA_UPDATED, CameraRemoved, CameraUpdated
from shared.envelope import Envelope
from shared.timeutil import iso

# What the field engineer changed on the appliance, audited here: the appliance has no
# audit log of its own (configuration changes are audited, security baseline).
_STATUS_ACTIONS = {"confirmed": "camera.confirm", "ignored": "camera.ignore"}


def _known(ctx: ApplyContext, camera_ids: set[str]) -> dict[str, SiteCamera]:
    rows = ctx.session.exec(select(SiteCamera).where(
        col(SiteCamera.site_id) == ctx.site_id, col(SiteCamera.camera_id).in_(camera_ids)))
    return {row.camera_id: row for row in rows}


def apply_updates(ctx: ApplyContext,
                  items: Sequence[tuple[Envelope, CameraUpdated]]) -> list[Outcome]:
    known = _known(ctx, {str(e.camera_id) for _, e in items})
    outcomes = []
    for envelope, event in items:
        reported_at, _ = ctx.event_time(envelope)
        camera_id = str(event.camera_id)
        row = known.get(camera_id)
        before = (row.status, row.name, row.has_credentials) if row is not None else (
            "discovered", None, False)
        if row is None:
            row = known[camera_id] = SiteCamera(
                site_id=ctx.site_id, camera_id=camera_id, identity=event.identity,
                brand=event.brand, host=event.host, onvif_port=event.onvif_port,
                status=event.status, onvif_state=event.onvif_state,
                has_credentials=event.has_credentials, profiles=[],
                discovered_at=event.discovered_at, reported_at=reported_at)
        for name, value in event.model_dump(exclude={"camera_id", "profiles"}).items():
            setattr(row, name, value)
        row.profiles = [p.model_dump(mode="json") for p in event.profiles]
        row.reported_at = reported_at
        ctx.session.add(row)
        _audit(ctx, event, before, reported_at)
        outcomes.append(Outcome("applied", ref=str(event.camera_id)))
    ctx.session.flush()
    return outcomes


def _audit(ctx: ApplyContext, event: CameraUpdated, before: tuple[str, str | None, bool],
           reported_at: datetime) -> None:
    status, name, had_credentials = before
    actions = []
    changed = event.status != status or (event.status == "confirmed" and event.name != name)
    if changed and event.status in _STATUS_ACTIONS:
        actions.append(_STATUS_ACTIONS[event.status])
    if event.has_credentials and not had_credentials:
        actions.append("camera.credentials")
    for action in actions:
        audit_service.record(
            ctx.session, action=action, actor=f"engineer:{ctx.site_id}",
            object_type="camera", object_id=str(event.camera_id),
            detail={"via": f"site:{ctx.site_id}", "identity": event.identity,
                    "host": event.host, "name": event.name, "status": event.status,
                    "reported_at": iso(reported_at)})


def apply_removals(ctx: ApplyContext,
                   items: Sequence[tuple[Envelope, CameraRemoved]]) -> list[Outcome]:
    known = _known(ctx, {str(e.camera_id) for _, e in items})
    outcomes = []
    for _envelope, event in items:
        row = known.pop(str(event.camera_id), None)
        if row is not None:
            ctx.session.delete(row)
        outcomes.append(Outcome("applied" if row is not None else "merged",
                                ref=str(event.camera_id)))
    ctx.session.flush()
    return outcomes


# After the other types of a run: nothing else reads cameras yet; a removal follows the
# update of the camera it merged into (both of one transaction on the appliance).
register(EventType(CAMERA_UPDATED, CameraUpdated, apply_updates, order=60,
                   audit_key="cameras_updated", scope="site"))
register(EventType(CAMERA_REMOVED, CameraRemoved, apply_removals, order=61,
                   audit_key="cameras_removed", scope="site"))
