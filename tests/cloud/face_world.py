"""Face events as the appliance sends them (shared/faces.py), for the cloud tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from cloud.settings import CloudSettings
from cloud.sync.service import ApplyResult
from shared.faces import FACE_CONSENT, FACE_ERASED, FACE_SIGHTED
from shared.timeutil import iso
from tests.cloud.sales_world import SiteWorld, apply, envelope

CAMERA = uuid.UUID("00000000-0000-4000-8000-00000000ca01")


def sighted(person_ref: uuid.UUID, first: datetime, last: datetime, count: int = 1, *,
            sighting_id: uuid.UUID | None = None, subject: str = "visitor",
            score: float | None = None) -> dict[str, Any]:
    return {"sighting_id": str(sighting_id or uuid.uuid4()), "camera_id": str(CAMERA),
            "person_ref": str(person_ref), "subject": subject, "first_seen_at": iso(first),
            "last_seen_at": iso(last), "count": count, "score": score}


def consent(person_ref: uuid.UUID, visit_id: str, at: datetime,
            granted: bool = True) -> dict[str, Any]:
    return {"person_ref": str(person_ref), "visit_id": visit_id, "granted": granted,
            "notice_version": "face-2025.1", "method": "kiosk_screen", "recorded_at": iso(at)}


def erased(person_ref: uuid.UUID, at: datetime, reason: str = "request",
           request_id: str | None = None) -> dict[str, Any]:
    return {"person_ref": str(person_ref), "reason": reason, "erased_at": iso(at),
            "request_id": request_id}


def send(db: Session, settings: CloudSettings, site: SiteWorld, site_id: str,
         events: list[tuple[str, dict[str, Any]]]) -> ApplyResult:
    """Send the events in order, in one batch."""
    envelopes = [envelope(site.key, site_id, site.next_seq(), kind, payload)
                 for kind, payload in events]
    return apply(db, settings, site_id, envelopes)


SIGHTED, CONSENT, ERASED = FACE_SIGHTED, FACE_CONSENT, FACE_ERASED
