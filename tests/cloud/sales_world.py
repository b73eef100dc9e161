"""A small sales world for the cloud tests: two sites with one synced visit each, the
site staff, and helpers to sync events and post follow-ups."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.catalog.models import Project
from cloud.sales.models import Customer, FollowUp
from cloud.settings import CloudSettings
from cloud.sync import provision, service
from shared.crypto import decode_key
from shared.envelope import Envelope
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import make_user
from tests.wire import EPOCH, INSTANCE

PHONE_A, PHONE_B = "13800000001", "13900000009"


@dataclass
class SiteWorld:
    key: bytes
    project_id: int
    visit_id: str
    customer_id: int
    seq: int = 1

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def build_world(db: Session, settings: CloudSettings) -> dict[str, Any]:
    """Two sites, one synced visit each received by (so owned by) consult_a / consult_b;
    another consultant, a receptionist, a sales manager, an HQ manager."""
    ids: dict[str, Any] = {}
    keys: dict[str, bytes] = {}
    for site_id in ("site-a", "site-b"):
        creds = provision.provision_site(db, settings=settings, site_id=site_id,
                                         name=site_id, projects=[f"{site_id} 项目"])
        keys[site_id] = decode_key(creds.site_key)
    db.flush()
    for username, roles, scopes, everything in (
        ("consult_a", ["consultant"], ["site-a"], False),
        ("consult_a2", ["consultant"], ["site-a"], False),
        ("consult_b", ["consultant"], ["site-b"], False),
        ("reception_a", ["receptionist"], ["site-a"], False),
        ("manager_a", ["sales_manager"], ["site-a"], False),
        ("hqadmin", ["hq_manager"], [], True),
    ):
        ids[username] = make_user(db, username, roles=roles, site_ids=scopes,
                                  scope_all=everything).id
    for site_id, phone, receiver in (("site-a", PHONE_A, "consult_a"),
                                     ("site-b", PHONE_B, "consult_b")):
        project = db.exec(select(Project).where(Project.site_id == site_id)).one()
        assert project.id is not None
        visit_id = str(uuid.uuid4())
        apply(db, settings, site_id, [envelope(keys[site_id], site_id, 1, VISIT_REGISTERED, {
            "visit_id": visit_id, "project_id": project.id, "phone": phone, "party_size": 2,
            "consultant_id": ids[receiver]})])
        customer = db.exec(select(Customer).where(Customer.project_id == project.id)).one()
        assert customer.id is not None and customer.owner_id == ids[receiver]
        ids[site_id] = SiteWorld(keys[site_id], project.id, visit_id, customer.id)
    db.commit()
    return ids


def envelope(key: bytes, site_id: str, seq: int, type_: str, payload: dict[str, Any],
             at: datetime | None = None) -> Envelope:
    """A signed event that happened, and was sent, `at` (now by default)."""
    occurred_at = at or utcnow()
    return Envelope(
        epoch=EPOCH, instance=INSTANCE,
        site_id=site_id, seq=seq, event_id=uuid.uuid4(), type=type_,
        occurred_at=occurred_at, sent_at=occurred_at,
        payload=payload).signed(key)


def apply(db: Session, settings: CloudSettings, site_id: str, envelopes: list[Envelope]
          ) -> service.ApplyResult:
    result = service.apply_batch(db, settings=settings, site_id=site_id, envelopes=envelopes)
    db.commit()
    return result


def follow_up_event(site: SiteWorld, consultant_id: int, follow_up_id: str | None = None,
                    **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "follow_up_id": follow_up_id or str(uuid.uuid4()), "project_id": site.project_id,
        "phone": PHONE_A, "visit_id": site.visit_id, "consultant_id": consultant_id,
        "kind": "call", "reached": True, "note": "电话沟通，客户周末再来",
        "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat()}
    payload.update(overrides)
    return payload


def body(site: SiteWorld, follow_up_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": follow_up_id or str(uuid.uuid4()), "visit_id": site.visit_id, "kind": "meeting",
        "reached": True, "note": "面谈：三房，预算 500 万",
        "occurred_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "next_at": (utcnow() + timedelta(days=3)).isoformat()}
    data.update(overrides)
    return data


def post(client: TestClient, headers: dict[str, str], data: dict[str, Any],
         key: str | None = "same") -> Any:
    extra = {} if key is None else {"Idempotency-Key": data["id"] if key == "same" else key}
    return client.post("/api/v1/follow-ups", json=data, headers={**headers, **extra})


def rows(db: Session) -> list[FollowUp]:
    db.rollback()
    return list(db.exec(select(FollowUp).execution_options(populate_existing=True)).all())
