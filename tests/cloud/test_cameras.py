"""The camera inventory in the cloud: the appliance's `camera.*` events applied on the real
PostgreSQL (upserts in seq order, merges, duplicates, payloads with credentials refused),
the console's list per site, capture health (`camera.health`), and migrations 0030 and
0035 against the models."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.cameras.models import SiteCamera
from cloud.settings import CloudSettings
from cloud.sync import provision, service
from shared.cameras import CAMERA_HEALTH, CAMERA_REMOVED, CAMERA_UPDATED
from shared.crypto import decode_key
from shared.envelope import Envelope
from shared.timeutil import utcnow
from tests.cloud import make_user, signed_in
from tests.cloud.migration_drift import drift
from tests.wire import EPOCH, INSTANCE

CAM_A, CAM_B = uuid.uuid4(), uuid.uuid4()


def site(db: Session, settings: CloudSettings, site_id: str = "site-a") -> bytes:
    creds = provision.provision_site(db, settings=settings, site_id=site_id, name=site_id,
                                     projects=["一期"])
    return decode_key(creds.site_key)


def camera(camera_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "camera_id": str(camera_id), "identity": f"endpoint:urn:uuid:{camera_id}",
        "brand": "hikvision", "host": "192.168.1.64", "onvif_port": 80,
        "status": "discovered", "onvif_state": "no_credentials", "has_credentials": False,
        "profiles": [], "discovered_at": (utcnow() - timedelta(minutes=5)).isoformat()}
    record.update(overrides)
    return record


def envelope(key: bytes, seq: int, event_type: str, payload: dict[str, Any],
             site_id: str = "site-a") -> Envelope:
    return Envelope(epoch=EPOCH, instance=INSTANCE, site_id=site_id, seq=seq,
                    event_id=uuid.uuid4(), type=event_type, occurred_at=utcnow(),
                    sent_at=utcnow(), payload=payload).signed(key)


def apply(db: Session, settings: CloudSettings, envelopes: list[Envelope],
          site_id: str = "site-a") -> service.ApplyResult:
    result = service.apply_batch(db, settings=settings, site_id=site_id, received_at=utcnow(),
                                 envelopes=envelopes)
    db.commit()
    return result


def cameras(db: Session) -> list[SiteCamera]:
    db.expire_all()
    return list(db.exec(select(SiteCamera).order_by(col(SiteCamera.id))).all())


PROFILE = {"token": "Profile_1", "name": "mainStream", "encoding": "H264", "width": 1920,
           "height": 1080, "fps": 25, "stream_uri": "rtsp://192.168.1.64:554/Streaming/Channels/101"}


def test_the_inventory_follows_the_appliance(db: Session, settings: CloudSettings) -> None:
    key = site(db, settings)
    found = camera(CAM_A)
    ready = camera(CAM_A, identity="mac:44:19:b6:6d:24:85", mac="44:19:b6:6d:24:85",
                   serial="DS123", model="DS-2CD2143G2-I", onvif_state="ok",
                   has_credentials=True, profiles=[PROFILE])
    confirmed = {**ready, "status": "confirmed", "name": "大堂入口",
                 "confirmed_at": utcnow().isoformat()}
    batch = [envelope(key, 1, CAMERA_UPDATED, found), envelope(key, 2, CAMERA_UPDATED, ready),
             envelope(key, 3, CAMERA_UPDATED, camera(CAM_B)),
             envelope(key, 4, CAMERA_UPDATED, confirmed),
             envelope(key, 5, CAMERA_REMOVED, {"camera_id": str(CAM_B),
                                               "merged_into": str(CAM_A)})]
    result = apply(db, settings, batch)
    assert (result.acked_seq, result.applied, result.rejected) == (5, 5, [])
    [row] = cameras(db)
    assert (row.camera_id, row.site_id, row.status, row.name) == (
        str(CAM_A), "site-a", "confirmed", "大堂入口")
    assert (row.identity, row.onvif_state, row.has_credentials) == (
        "mac:44:19:b6:6d:24:85", "ok", True)
    assert row.profiles == [PROFILE]
    # The engineer's changes on the appliance, in the cloud's audit log.
    audited = db.exec(select(AuditLog).where(col(AuditLog.object_type) == "camera")
                      .order_by(col(AuditLog.id))).all()
    assert [(a.action, a.actor, a.object_id) for a in audited] == [
        ("camera.credentials", "engineer:site-a", str(CAM_A)),
        ("camera.confirm", "engineer:site-a", str(CAM_A))]
    assert audited[1].detail["name"] == "大堂入口"

    again = apply(db, settings, batch)  # delivered twice: no second effect
    assert again.applied == 0 and len(cameras(db)) == 1
    assert len(db.exec(select(AuditLog).where(col(AuditLog.object_type) == "camera")).all()) == 2


def test_credentials_never_reach_the_inventory(db: Session, settings: CloudSettings) -> None:
    key = site(db, settings)
    leaky = camera(CAM_A, profiles=[{**PROFILE, "stream_uri":
                                     "rtsp://admin:secret@192.168.1.64/Streaming/Channels/101"}])
    extra = {**camera(CAM_B), "password": "secret"}
    result = apply(db, settings, [envelope(key, 1, CAMERA_UPDATED, leaky),
                                  envelope(key, 2, CAMERA_UPDATED, extra)])
    assert [r.seq for r in result.rejected] == [1, 2]  # consumed, recorded, not applied
    assert result.acked_seq == 2
    assert cameras(db) == []


def test_the_console_lists_a_sites_cameras(db: Session, settings: CloudSettings,
                                           client: TestClient) -> None:
    key_a, key_b = site(db, settings, "site-a"), site(db, settings, "site-b")
    apply(db, settings, [envelope(key_a, 1, CAMERA_UPDATED, camera(CAM_A))])
    apply(db, settings, [envelope(key_b, 1, CAMERA_UPDATED, camera(CAM_B), "site-b")],
          "site-b")
    make_user(db, "ops.a", roles=["hq_manager"], site_ids=["site-a"])
    make_user(db, "cons.a", roles=["consultant"], site_ids=["site-a"])
    headers = signed_in(client, "ops.a")
    listed = client.get("/api/v1/cameras", params={"site_id": "site-a"}, headers=headers)
    assert listed.status_code == 200
    assert [c["camera_id"] for c in listed.json()] == [str(CAM_A)]
    assert "password" not in listed.text and "username" not in listed.text
    other = client.get("/api/v1/cameras", params={"site_id": "site-b"}, headers=headers)
    assert other.status_code == 404 and other.json()["code"] == "site_not_found"
    refused = client.get("/api/v1/cameras", params={"site_id": "site-a"},
                         headers=signed_in(client, "cons.a"))
    assert refused.status_code == 403


def health(camera_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "camera_id": str(camera_id), "state": "streaming", "sample_fps": 2.0, "fps": 1.96,
        "frames": 1200, "last_frame_at": utcnow().isoformat(), "errors": 0}
    report.update(overrides)
    return report


def test_capture_health_lands_on_the_camera_and_shows_in_the_console(
        db: Session, settings: CloudSettings, client: TestClient) -> None:
    key = site(db, settings)
    broken_at = utcnow().isoformat()
    result = apply(db, settings, [
        envelope(key, 1, CAMERA_UPDATED, camera(CAM_A)),
        envelope(key, 2, CAMERA_HEALTH, health(CAM_A)),
        envelope(key, 3, CAMERA_HEALTH, health(
            CAM_A, state="reconnecting", fps=0.0, errors=3, last_error="open_failed",
            last_error_at=broken_at)),
        envelope(key, 4, CAMERA_HEALTH, health(CAM_B)),  # no such camera on this site
        envelope(key, 5, CAMERA_HEALTH, {**health(CAM_A), "frame": "base64…"}),
    ])
    assert result.acked_seq == 5
    # Consumed, recorded, nothing created: a camera the site never reported, a frame.
    assert {r.seq: r.reason for r in result.rejected} == {
        4: "unknown_camera", 5: "invalid_payload"}
    [row] = cameras(db)
    assert (row.capture_state, row.capture_fps, row.capture_errors, row.capture_error) == (
        "reconnecting", 0.0, 3, "open_failed")
    assert row.sample_fps == 2.0 and row.captured_frames == 1200
    make_user(db, "ops.h", roles=["hq_manager"], site_ids=["site-a"])
    [listed] = client.get("/api/v1/cameras", params={"site_id": "site-a"},
                          headers=signed_in(client, "ops.h")).json()
    assert listed["capture_state"] == "reconnecting" and listed["capture_errors"] == 3
    assert listed["last_frame_at"] is not None and listed["health_reported_at"] is not None


def test_migrations_0030_and_0035_match_the_models(engine: Engine) -> None:
    assert drift(engine, {"site_camera"}) == []


def test_an_older_health_report_does_not_overwrite_a_newer_one(
        db: Session, settings: CloudSettings) -> None:
    key = site(db, settings)
    newer = envelope(key, 2, CAMERA_HEALTH, health(CAM_A, state="reconnecting", errors=1))
    older = envelope(key, 3, CAMERA_HEALTH, health(CAM_A))
    older = Envelope(**{**older.model_dump(exclude={"sig"}),
                        "occurred_at": newer.occurred_at - timedelta(minutes=5)}).signed(key)
    result = apply(db, settings, [envelope(key, 1, CAMERA_UPDATED, camera(CAM_A)), newer,
                                  older])
    assert result.acked_seq == 3 and result.rejected == []
    [row] = cameras(db)
    assert (row.capture_state, row.capture_errors) == ("reconnecting", 1)
