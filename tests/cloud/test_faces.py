"""Faces in the cloud on the real PostgreSQL: sightings (last event wins, times and count
only grow, whatever the order and however often resent), face consents linking a gallery
entry to the customer of the registration and their withdrawal, erasures; a site's face
settings (off by default, switched on only with signage, area and notice, audited, sent
down as `site.faces`); the data-subject erasure sending `face.erase` and tracking each
site's answer; the distinct-person counter and its alarms; audited reads; migration 0041."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.faces import counter
from cloud.faces.models import FaceConsentRecord, FaceErasure, FacePerson, FaceSighting
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.models import DownFeed, SiteLink
from shared.faces import FaceErase, SiteFaces
from shared.timeutil import utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.cloud.face_world import CONSENT, ERASED, SIGHTED, consent, erased, send, sighted
from tests.cloud.migration_drift import drift
from tests.cloud.query_count import statements
from tests.conftest import make_settings

SITE_FACES_URL = "/api/v1/faces/sites/site-a"
ON = {"enabled": True, "signage_text": "本区域设有人脸识别，用于到访登记与渠道核验",
      "capture_area": "售楼处入口至前台", "notice_version": "face-2025.1"}


def _sighting(db: Session, sighting_id: uuid.UUID) -> FaceSighting:
    db.expire_all()
    row = db.get(FaceSighting, str(sighting_id))
    assert row is not None
    return row


def _person(db: Session, ref: uuid.UUID, site_id: str = "site-a") -> FacePerson:
    db.expire_all()
    return db.exec(select(FacePerson).where(FacePerson.site_id == site_id,
                                            FacePerson.person_ref == str(ref))).one()


def test_the_last_event_of_a_sighting_wins_and_its_times_and_count_only_grow(
        db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    site, ref, sid = world["site-a"], uuid.uuid4(), uuid.uuid4()
    t0 = utcnow() - timedelta(hours=1)
    first = sighted(ref, t0, t0 + timedelta(seconds=5), 1, sighting_id=sid)
    grown = sighted(ref, t0, t0 + timedelta(minutes=3), 4, sighting_id=sid, score=0.71)
    result = send(db, settings, site, "site-a", [(SIGHTED, first), (SIGHTED, grown)])
    assert result.applied == 2 and result.rejected == []
    row = _sighting(db, sid)
    assert (row.count, row.last_seen_at, row.score) == (4, t0 + timedelta(minutes=3), 0.71)
    # The first event again (a resend after a reconnect) and an older one out of order:
    # nothing goes backwards.
    send(db, settings, site, "site-a", [(SIGHTED, first), (SIGHTED, sighted(
        ref, t0 + timedelta(seconds=30), t0 + timedelta(minutes=1), 2, sighting_id=sid))])
    row = _sighting(db, sid)
    assert (row.first_seen_at, row.last_seen_at, row.count, row.score) == (
        t0, t0 + timedelta(minutes=3), 4, 0.71)
    # An event that reaches further back in time widens the sighting.
    send(db, settings, site, "site-a", [(SIGHTED, sighted(
        ref, t0 - timedelta(seconds=20), t0 + timedelta(minutes=4), 5, sighting_id=sid))])
    row = _sighting(db, sid)
    assert (row.first_seen_at, row.last_seen_at, row.count) == (
        t0 - timedelta(seconds=20), t0 + timedelta(minutes=4), 5)
    person = _person(db, ref)
    assert person.first_seen_at == t0 - timedelta(seconds=20)
    assert person.customer_id is None and person.erased_at is None


def test_a_sighting_id_belongs_to_one_site_and_one_person(
        db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    sid, t0 = uuid.uuid4(), utcnow() - timedelta(minutes=10)
    send(db, settings, world["site-a"], "site-a", [(SIGHTED, sighted(uuid.uuid4(), t0, t0,
                                                                     sighting_id=sid))])
    result = send(db, settings, world["site-b"], "site-b",
                  [(SIGHTED, sighted(uuid.uuid4(), t0, t0, sighting_id=sid))])
    assert [r.reason for r in result.rejected] == ["sighting_conflict"]
    assert _sighting(db, sid).site_id == "site-a"


def test_consent_links_the_face_to_the_registrations_customer_and_withdrawal_unlinks_it(
        db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    site, ref, t0 = world["site-a"], uuid.uuid4(), utcnow() - timedelta(minutes=30)
    send(db, settings, site, "site-a", [
        (SIGHTED, sighted(ref, t0, t0 + timedelta(minutes=1))),
        (CONSENT, consent(ref, site.visit_id, t0 + timedelta(minutes=2))),
        (CONSENT, consent(uuid.uuid4(), str(uuid.uuid4()), t0))])
    person = _person(db, ref)
    assert person.customer_id == site.customer_id and person.consent is True
    # The same consent resent is one record; the unknown registration was refused.
    send(db, settings, site, "site-a",
         [(CONSENT, consent(ref, site.visit_id, t0 + timedelta(minutes=2)))])
    assert len(db.exec(select(FaceConsentRecord)).all()) == 1
    # Withdrawn: the appliance deletes the face and says so; the cloud drops the link and
    # its sightings, and keeps a tombstone that refuses a late sighting.
    send(db, settings, site, "site-a", [
        (CONSENT, consent(ref, site.visit_id, t0 + timedelta(minutes=5), granted=False)),
        (ERASED, erased(ref, t0 + timedelta(minutes=5), reason="withdrawn"))])
    result = send(db, settings, site, "site-a", [
        (SIGHTED, sighted(ref, t0 + timedelta(minutes=6), t0 + timedelta(minutes=6)))])
    assert [r.reason for r in result.rejected] == ["person_erased"]
    person = _person(db, ref)
    assert person.customer_id is None and not person.consent
    assert person.erased_reason == "withdrawn"
    assert db.exec(select(FaceSighting).where(FaceSighting.person_ref == str(ref))).all() == []
    records = db.exec(select(FaceConsentRecord).order_by(col(FaceConsentRecord.id))).all()
    assert [r.granted for r in records] == [True, False]


def test_faces_are_off_until_switched_on_with_signage_area_and_notice(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    make_user(db, "secadmin", roles=["security_admin"], scope_all=True)
    sec, hq = signed_in(client, "secadmin"), signed_in(client, "hqadmin")
    assert client.get(SITE_FACES_URL, headers=hq).json()["enabled"] is False
    link = db.get(SiteLink, "site-a")
    assert link is not None
    assert feed.derived_kinds()["site.faces"].current(db, settings, link) == {}
    missing = client.put(SITE_FACES_URL, headers=sec, json={**ON, "capture_area": None})
    assert missing.status_code == 422
    assert problem(missing)["code"] == "faces_notice_incomplete"
    # A consultant may not switch it on.
    assert client.put(SITE_FACES_URL, headers=signed_in(client, "consult_a"),
                      json=ON).status_code == 403
    on = client.put(SITE_FACES_URL, headers=sec, json=ON)
    assert on.status_code == 200, on.text
    assert on.json()["capture_area"] == "售楼处入口至前台"
    [row] = audit_rows(db, "faces.site_enable")
    assert row.detail["notice_version"] == "face-2025.1"
    db.expire_all()
    stated = feed.derived_kinds()["site.faces"].current(db, settings, link)["site"]
    assert SiteFaces.model_validate(stated).enabled is True
    assert stated["signage_text"] == ON["signage_text"]
    # It travels in the appliance's next batch (a kind the down-feed's wire accepts).
    batch = feed.batch_after(db, settings=settings, link=link, site_key=world["site-a"].key,
                             cursor=link.down_cursor_acked, limit=500)
    [item] = [i for i in batch.items if i.kind == "site.faces"]
    assert item.key == "site" and item.data["notice_version"] == "face-2025.1"
    db.commit()
    off = client.put(SITE_FACES_URL, headers=hq, json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    # What was shown while it was on stays on record.
    assert off.json()["notice_version"] == "face-2025.1"
    assert audit_rows(db, "faces.site_disable")
    db.expire_all()
    assert feed.derived_kinds()["site.faces"].current(db, settings, link)["site"][
        "enabled"] is False


def test_a_deletion_request_asks_each_site_to_erase_and_tracks_the_answers(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    site, t0 = world["site-a"], utcnow() - timedelta(hours=2)
    kept_ref, other_ref, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    send(db, settings, site, "site-a", [
        (SIGHTED, sighted(kept_ref, t0, t0, subject="customer")),
        (CONSENT, consent(kept_ref, site.visit_id, t0)),
        (CONSENT, consent(other_ref, site.visit_id, t0 + timedelta(minutes=1))),
        (SIGHTED, sighted(stranger, t0, t0))])
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    officer = signed_in(client, "privacy")
    request = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "deletion", "phone": "13800000001", "channel": "onsite"}).json()
    done = client.post(f"/api/v1/privacy/requests/{request['id']}/erase", headers=officer)
    assert done.status_code == 200, done.text
    db.expire_all()
    [item] = db.exec(select(DownFeed).where(DownFeed.site_id == "site-a",
                                            DownFeed.kind == "face.erase")).all()
    asked = FaceErase.model_validate(item.data)
    link = db.get(SiteLink, "site-a")
    assert link is not None
    batch = feed.batch_after(db, settings=settings, link=link, site_key=site.key,
                             cursor=link.down_cursor_acked, limit=500)
    assert [i.key for i in batch.items if i.kind == "face.erase"] == [str(asked.request_id)]
    db.commit()
    assert sorted(map(str, asked.person_refs)) == sorted([str(kept_ref), str(other_ref)])
    assert asked.customer_id == site.customer_id
    # The cloud's own sightings of the person are gone at once; the stranger's stay.
    assert [s.person_ref for s in db.exec(select(FaceSighting)).all()] == [str(stranger)]
    url = f"/api/v1/faces/erasures/{request['id']}"
    states = client.get(url, headers=officer).json()
    assert {s["state"] for s in states} == {"pending"}
    assert states[0]["due_at"] == request["due_at"]
    send(db, settings, site, "site-a", [(ERASED, erased(
        kept_ref, utcnow(), request_id=str(asked.request_id)))])
    states = {s["person_ref"]: s["state"] for s in client.get(url, headers=officer).json()}
    assert states == {str(kept_ref): "erased", str(other_ref): "pending"}
    # Past the request's deadline an unanswered entry shows overdue.
    db.expire_all()
    for row in db.exec(select(FaceErasure)).all():
        row.due_at = utcnow() - timedelta(minutes=1)
        db.add(row)
    db.commit()
    states = {s["person_ref"]: s["state"] for s in client.get(url, headers=officer).json()}
    assert states[str(other_ref)] == "overdue" and states[str(kept_ref)] == "erased"
    # A day on, what is still unanswered is sent again (the appliance may have resynced
    # past the first item), once a day.
    for row in db.exec(select(FaceErasure)).all():
        row.sent_at = utcnow() - timedelta(days=1, minutes=1)
        db.add(row)
    db.commit()
    assert jobs()["faces.erase_resend"].run(db, settings) == {"resent": 1, "entries": 1}
    assert jobs()["faces.erase_resend"].run(db, settings) == {"resent": 0, "entries": 0}
    db.commit()
    again = db.exec(select(DownFeed).where(DownFeed.kind == "face.erase")
                    .order_by(col(DownFeed.offset))).all()
    assert len(again) == 2 and again[1].key == str(asked.request_id)
    assert FaceErase.model_validate(again[1].data).person_refs == [other_ref]
    assert audit_rows(db, "privacy.erase")[0].detail["face_entries"] == 2


def test_an_access_request_answers_with_the_subjects_faces(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    site, ref, t0 = world["site-a"], uuid.uuid4(), utcnow() - timedelta(hours=3)
    send(db, settings, site, "site-a", [
        (SIGHTED, sighted(ref, t0, t0 + timedelta(minutes=1), subject="customer")),
        (SIGHTED, sighted(ref, t0 + timedelta(hours=1), t0 + timedelta(hours=1))),
        (CONSENT, consent(ref, site.visit_id, t0)),
        (SIGHTED, sighted(uuid.uuid4(), t0, t0))])
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    officer = signed_in(client, "privacy")
    request = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "access", "phone": "13800000001", "channel": "onsite"}).json()
    data = client.post(f"/api/v1/privacy/requests/{request['id']}/subject-data",
                       headers=officer).json()
    [face] = data["faces"]
    assert (face["person_ref"], face["site_id"], face["sightings"]) == (str(ref), "site-a", 2)
    assert [c["granted"] for c in face["consents"]] == [True]
    [row] = audit_rows(db, "privacy.subject_data")
    assert row.detail["faces"] == 1


def test_the_counter_counts_distinct_people_and_alarms_once_per_level(
        db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    site, t0 = world["site-a"], utcnow() - timedelta(hours=1)
    refs = [uuid.uuid4() for _ in range(4)]
    send(db, settings, site, "site-a", [
        *((SIGHTED, sighted(r, t0, t0)) for r in refs),
        # Two entries of one customer (two consents) are one person.
        (CONSENT, consent(refs[0], site.visit_id, t0)),
        (CONSENT, consent(refs[1], site.visit_id, t0 + timedelta(seconds=1)))])
    assert counter.distinct_persons(db) == 3
    small = make_settings(settings.database_url, face_count_warning=2, face_count_filing=4)
    assert counter.recount(db, small) == {"persons": 3, "level": "warning"}
    db.commit()
    counter.recount(db, small)
    db.commit()
    assert len(audit_rows(db, "faces.count_warning")) == 1
    assert audit_rows(db, "faces.count_filing") == []
    send(db, settings, site, "site-a", [(SIGHTED, sighted(uuid.uuid4(), t0, t0)),
                                        (SIGHTED, sighted(uuid.uuid4(), t0, t0))])
    assert counter.recount(db, small)["level"] == "filing"
    db.commit()
    assert len(audit_rows(db, "faces.count_filing")) == 1
    # Erasures bring the count down and clear the alarms.
    send(db, settings, site, "site-a", [(ERASED, erased(r, utcnow(), "retention"))
                                        for r in refs])
    assert counter.recount(db, small) == {"persons": 2, "level": "warning"}
    db.commit()
    db.expire_all()
    row = counter.current(db)
    assert row.filing_since is None and row.warning_since is not None


def test_the_console_reads_the_count_and_a_customers_face_data_is_audited(
        client: TestClient, db: Session, settings: CloudSettings,
        world: dict[str, Any]) -> None:
    site, ref, t0 = world["site-a"], uuid.uuid4(), utcnow() - timedelta(hours=1)
    send(db, settings, site, "site-a", [(SIGHTED, sighted(ref, t0, t0, subject="customer")),
                                        (CONSENT, consent(ref, site.visit_id, t0))])
    counter.recount(db, settings)
    db.commit()
    hq = signed_in(client, "hqadmin")
    count = client.get("/api/v1/faces/count", headers=hq).json()
    assert (count["persons"], count["level"], count["warning_at"]) == (1, "ok", 80_000)
    data = client.get(f"/api/v1/faces/customers/{site.customer_id}", headers=hq)
    assert data.status_code == 200, data.text
    assert [s["person_ref"] for s in data.json()["sightings"]] == [str(ref)]
    assert data.json()["consents"][0]["notice_version"] == "face-2025.1"
    [row] = audit_rows(db, "faces.data_read")
    assert row.object_id == str(site.customer_id) and row.detail["sightings"] == 1
    # Out of a channel manager's sites: not revealed.
    make_user(db, "chan_b", roles=["channel_manager"], site_ids=["site-b"])
    other = client.get(f"/api/v1/faces/customers/{site.customer_id}",
                       headers=signed_in(client, "chan_b"))
    assert other.status_code == 404


def test_a_run_of_face_events_costs_the_same_statements_whatever_its_length(
        engine: Engine, db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    site, t0 = world["site-a"], utcnow() - timedelta(hours=1)

    def run(n: int) -> int:
        refs = [uuid.uuid4() for _ in range(n)]
        events = [*((SIGHTED, sighted(r, t0, t0)) for r in refs),
                  *((CONSENT, consent(r, site.visit_id, t0 + timedelta(seconds=i)))
                    for i, r in enumerate(refs)),
                  *((ERASED, erased(r, utcnow(), "retention")) for r in refs)]
        with statements(engine) as sent:
            result = send(db, settings, site, "site-a", events)
        assert result.applied == 3 * n
        # Not counted: the link's transit-time minimum (cloud.sync.identity), updated when
        # a message arrives faster than any before it — a matter of timing, once a message.
        return len([q for q in sent if not q.startswith("UPDATE site_link SET instance_offset")])

    assert run(3) == run(12)


@pytest.mark.usefixtures("db")
def test_migration_0041_matches_the_models(engine: Engine) -> None:
    assert drift(engine, {"site_face_setting", "face_person", "face_sighting", "face_consent",
                          "face_erasure", "face_counter", "channel_risk_case"}) == []
