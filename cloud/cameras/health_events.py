"""The appliance's camera health (`camera.health`): the latest report per camera, kept
on its `site_camera` row. Counts and times only; a report older than the one kept
(resent after a reconnect) changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from cloud.cameras.models import SiteCamera
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.cameras import CAMERA_HEALTH, CameraHealth
from shared.envelope import Envelope


def apply_health(ctx: ApplyContext,
                 items: Sequence[tuple[Envelope, CameraHealth]]) -> list[Outcome]:
    rows = ctx.session.exec(select(SiteCamera).where(
        col(SiteCamera.site_id) == ctx.site_id,
        col(SiteCamera.camera_id).in_({str(e.camera_id) for _, e in items})))
    known = {row.camera_id: row for row in rows}
    outcomes = []
    for envelope, event in items:
        reported_at, _ = ctx.event_time(envelope)
        row = known.get(str(event.camera_id))
        if row is None:
            # Its camera.updated comes first in the outbox; none means a forged or
            # foreign id. The seq is consumed, nothing is created.
            outcomes.append(Outcome("rejected", reason="unknown_camera",
                                    ref=str(event.camera_id)))
            continue
        if row.health_reported_at is not None and row.health_reported_at > reported_at:
            outcomes.append(Outcome("merged", ref=str(event.camera_id)))
            continue
        row.capture_state = event.state
        row.sample_fps = event.sample_fps
        row.capture_fps = event.fps
        row.captured_frames = event.frames
        row.last_frame_at = event.last_frame_at
        row.capture_errors = event.errors
        row.capture_error = event.last_error
        row.capture_error_at = event.last_error_at
        row.health_reported_at = reported_at
        ctx.session.add(row)
        outcomes.append(Outcome("applied", ref=str(event.camera_id)))
    ctx.session.flush()
    return outcomes


# After camera.updated (order 60): the row a report lands on is made by that event.
register(EventType(CAMERA_HEALTH, CameraHealth, apply_health, order=62,
                   audit_key="camera_health", scope="site"))
