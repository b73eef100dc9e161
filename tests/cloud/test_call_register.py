"""The cloud's call register (来电登记, ADR 0056): migration 0045 makes the model's table;
an access request lists the subject's calls as it lists their other records; under a
deletion request the subject's calls lose number and name — even a caller who never
visited, whose appliance is told too — and still count."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.reception.calls import NAME_CONTEXT, PHONE_CONTEXT
from cloud.reception.models import CallRecord
from cloud.settings import CloudSettings
from cloud.sync.keys import seal_site_key
from cloud.sync.models import DownFeed, SiteLink
from shared.crypto import BlindIndex, decode_key, new_key
from shared.timeutil import shanghai_date
from tests.cloud import audit_rows, make_user, signed_in
from tests.cloud.migration_drift import drift
from tests.cloud.sales_analysis_world import at, build


def test_the_migration_matches_the_model(engine: Engine) -> None:
    assert drift(engine, ["call_record"]) == []


def test_an_access_request_lists_the_subjects_calls(client: TestClient, db: Session,
                                                   settings: CloudSettings) -> None:
    office = build(db, settings)
    caller = "13900000002"  # called project A, never visited: only their calls are held
    moment = at("2026-11-05T02:30:00")
    db.add(CallRecord(
        id=str(uuid.uuid4()), site_id="site-b", project_id=office.projects["b"],
        phone_enc=settings.cipher.encrypt(caller, context=PHONE_CONTEXT),
        phone_bidx=settings.blind_index.phone(caller), phone_masked="139****0002",
        name_enc=settings.cipher.encrypt("周先生", context=NAME_CONTEXT), awareness="online",
        consultant_id=office.users["con3"], recorded_by="kiosk:10.0.0.6",
        occurred_at=moment, call_date=shanghai_date(moment), event_seq=2))
    db.commit()
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    officer = signed_in(client, "privacy")
    opened = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "access", "phone": caller, "channel": "onsite"})
    assert opened.status_code == 201, opened.text

    data = client.post(f"/api/v1/privacy/requests/{opened.json()['id']}/subject-data",
                       headers=officer)
    assert data.status_code == 200, data.text
    assert data.json()["customers"] == []
    assert [(c["project_name"], c["phone"], c["name"], c["awareness"], c["awareness_name"],
             c["occurred_at"]) for c in data.json()["calls"]] == [
        ("项目A", caller, None, None, "未填写", "2026-10-31T16:10:00Z"),
        ("项目B", caller, "周先生", "online", "网络", "2026-11-05T02:30:00Z")]
    [read] = audit_rows(db, "privacy.subject_data")
    assert read.detail["calls"] == 2 and caller not in str(read.detail)


def test_an_erasure_blanks_the_subjects_calls(client: TestClient, db: Session,
                                              settings: CloudSettings) -> None:
    office = build(db, settings)
    key = new_key()
    db.add(SiteLink(site_id="site-a", key_enc=seal_site_key(settings, key),
                    mqtt_username="site-a", mqtt_password_hash="-"))
    db.commit()
    caller = "13900000002"  # called project A, never visited: no customer to announce
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    officer = signed_in(client, "privacy")
    opened = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "deletion", "phone": caller, "channel": "onsite", "detail": "本人要求"})
    assert opened.status_code == 201, opened.text
    erased = client.post(f"/api/v1/privacy/requests/{opened.json()['id']}/erase",
                         headers=officer)
    assert erased.status_code == 200, erased.text

    db.rollback()
    rows = db.exec(select(CallRecord).order_by(col(CallRecord.occurred_at))).all()
    gone = [r for r in rows if r.phone_masked == "已删除"]
    assert len(rows) == 5 and len(gone) == 1
    assert gone[0].phone_bidx.startswith("erased:") and gone[0].name_enc is None
    assert settings.cipher.decrypt(gone[0].phone_enc, context=PHONE_CONTEXT) == ""
    assert gone[0].project_id == office.projects["a"]
    kept = {r.phone_bidx for r in rows} - {gone[0].phone_bidx}
    assert settings.blind_index.phone("13800000001") in kept
    # The office's appliance is told as for a customer, under its own site key.
    told = db.exec(select(DownFeed).where(DownFeed.site_id == "site-a")).all()
    assert [(f.kind, f.data["erased"], f.data["phone_bidx"]) for f in told] == [
        ("customer", True, BlindIndex(decode_key(key)).phone(caller))]
