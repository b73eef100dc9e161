"""Matching, sightings, consent, erasure and retention on a real store, with stand-in
embeddings (the engine's own are in test_faces_live.py): the site's switch off by
default and followed from the down-feed; one sighting per person and camera that grows;
staff never sent; no customer without face consent; erasure on request, on withdrawal
and after 90 days, each told to the cloud; templates sealed; every access logged."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from httpx import ASGITransport, AsyncClient
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces import consent, records
from edge_agent.faces.engine import Detection, Embedding, EngineName, Frame
from edge_agent.faces.models import FacePerson, FaceTemplate
from edge_agent.faces.service import FaceService
from edge_agent.faces.sightings import MERGE_WINDOW, Seen
from edge_agent.faces.tracking import Track
from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.faces import FaceConsent, FaceErased, FaceSighted
from shared.timeutil import utcnow
from tests.consent import consent_in
from tests.edge.faces.support import NOTICE, erase, face, face_events, feed, near, switch
from tests.edge.helpers import KIOSK_TOKEN, eventually, make_settings

pytestmark = pytest.mark.anyio
ENGINEER = "engineer-token-for-tests-0123456789"
CAMERA, KIOSK_CAMERA = uuid.uuid4(), uuid.uuid4()


class StandIn:
    """Matching needs only the engine's name and size; frames never reach it here."""

    name: EngineName = "yunet_dlib"
    embedding_size = 128
    match_distance = 0.6

    def detect(self, frame: Frame) -> list[Detection]:
        return []

    def embed(self, frame: Frame, face: Detection) -> Embedding:
        raise AssertionError("not used")

    def distance(self, a: Embedding, b: Embedding) -> float:
        return float(np.linalg.norm(a - b))


@pytest.fixture
def settings(tmp_path: Path) -> EdgeSettings:
    return make_settings(tmp_path, faces_enabled=True, engineer_token=ENGINEER,
                         face_kiosk_camera_id=str(KIOSK_CAMERA))


@pytest.fixture
async def store(settings: EdgeSettings) -> AsyncIterator[Store]:
    opened = await Store.open(settings.database_path)
    yield opened
    await opened.close()


@pytest.fixture
async def faces(store: Store, settings: EdgeSettings) -> FaceService:
    service = FaceService(settings, store, engine=StandIn())
    await feed(store, settings, switch(True, utcnow()))
    await service.refresh()
    assert service.pipeline is not None
    return service


def seen(vector: np.ndarray, camera: uuid.UUID = CAMERA, at_offset: float = 0.0,
         seconds: float = 4.0) -> Seen:
    start = utcnow() + timedelta(seconds=at_offset)
    return Seen(camera, start, start + timedelta(seconds=seconds), vector)


def sighted(events: list[tuple[str, dict[str, Any]]]) -> list[FaceSighted]:
    return [FaceSighted.model_validate(p) for t, p in events if t == "face.sighted"]


async def test_faces_are_off_until_the_site_switches_them_on_and_off_again(
        store: Store, settings: EdgeSettings) -> None:
    service = FaceService(settings, store, engine=StandIn())
    await service.refresh()
    assert service.pipeline is None and service.gallery is None  # off by default
    assert await service.on_track(seen(face(1))) is None  # nothing matched, nothing kept
    await feed(store, settings, switch(True, utcnow()))
    await service.refresh()
    assert service.pipeline is not None and service.gallery is not None
    assert (await service.on_track(seen(face(1)))) is not None
    await feed(store, settings, switch(False, utcnow()), cursor=1)
    await service.refresh()
    assert service.pipeline is None and service.gallery is None  # matching stopped
    assert await service.on_track(seen(face(2))) is None
    # The appliance that may not run faces never does, whatever the site says.
    unable = FaceService(make_settings(Path(settings.database_path).parent / "x"), store)
    await feed(store, settings, switch(True, utcnow()), cursor=2)
    await unable.refresh()
    assert unable.pipeline is None
    # An order older than the one applied changes nothing.
    await feed(store, settings, switch(False, utcnow() - timedelta(hours=1)), cursor=3)
    assert (await store.read(records.site_settings)).enabled


async def test_one_sighting_grows_and_a_new_face_is_a_temporary_visitor(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    visitor = face(1)
    first = await faces.on_track(seen(visitor))
    again = await faces.on_track(seen(near(visitor, 2), at_offset=60))
    later = await faces.on_track(seen(near(visitor, 3), at_offset=(MERGE_WINDOW * 3)
                                      .total_seconds()))
    other = await faces.on_track(seen(face(9)))
    assert first and again and later and other
    assert first.kind == "visitor" and first.person_id == again.person_id == later.person_id
    assert first.sighting_id == again.sighting_id != later.sighting_id
    assert other.person_id != first.person_id
    events = sighted(await face_events(store, settings))
    assert [(e.sighting_id, e.count) for e in events] == [
        (first.sighting_id, 1), (first.sighting_id, 2), (later.sighting_id, 1),
        (other.sighting_id, 1)]
    assert events[0].subject == "visitor" and events[0].score is None  # a new identity
    assert events[1].score is not None and events[1].score > 0.99
    assert events[1].first_seen_at == events[0].first_seen_at < events[1].last_seen_at
    # The camera seen by another camera is another sighting of the same person.
    elsewhere = await faces.on_track(seen(near(visitor, 4), camera=uuid.uuid4()))
    assert elsewhere and elsewhere.person_id == first.person_id
    assert elsewhere.sighting_id != first.sighting_id


async def test_templates_are_sealed_and_every_access_is_logged(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    visitor = face(1)
    recorded = await faces.on_track(seen(visitor))
    assert recorded
    template = await store.read(lambda s: s.get(FaceTemplate, 1))
    assert template is not None and template.person_id == recorded.person_id
    assert np.allclose(records.unseal(settings.cipher, template.embedding_enc), visitor)
    with sqlite3.connect(settings.database_path) as db:
        raw = db.execute("SELECT embedding_enc FROM face_template").fetchone()[0]
        assert visitor.tobytes() not in raw.encode() and len(raw) > 500
        actions = [r[0] for r in db.execute("SELECT action FROM face_access ORDER BY id")]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE face_access SET actor = 'x'")
    assert actions == ["site_switched", "gallery_loaded", "visitor_enrolled"]
    # A restarted service loads the sealed gallery and knows the face again.
    restarted = FaceService(settings, store, engine=StandIn())
    await restarted.refresh()
    again = await restarted.on_track(seen(near(visitor, 5)))
    assert again and again.person_id == recorded.person_id


async def test_staff_are_recognised_and_never_sent(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    app = create_app(settings, sync=False)
    app.state.store, app.state.faces = store, faces
    staff_face = face(7)
    recorded = await faces.on_track(seen(staff_face))
    assert recorded
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://edge") as client:
        auth = {"Authorization": f"Bearer {ENGINEER}"}
        listed = (await client.get("/api/v1/faces/people", headers=auth)).json()
        assert [(p["person_ref"], p["kind"], p["sightings"]) for p in listed] == [
            (str(recorded.person_id), "visitor", 1)]
        answer = await client.post(f"/api/v1/faces/people/{recorded.person_id}/staff",
                                   json={"consultant_id": 7}, headers=auth)
        assert answer.status_code == 204
        assert (await client.get("/api/v1/faces/people")).status_code == 401
    before = await face_events(store, settings)
    assert [t for t, _ in before] == ["face.sighted", "face.erased"]  # the cloud drops it
    again = await faces.on_track(seen(near(staff_face, 1), at_offset=30))
    assert again and again.kind == "staff" and again.sighting_id is None
    assert await face_events(store, settings) == before  # nothing more goes up


async def test_a_face_becomes_a_customer_only_with_face_consent(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    app = create_app(settings, sync=False)
    app.state.store, app.state.faces = store, faces
    registered = await register_visit(store, settings, VisitIn(
        phone="13800001111", party_size=1, consent=consent_in()))
    no_consent = await register_visit(store, settings, VisitIn(
        phone="13800002222", party_size=1, consent=consent_in()))
    visit_id = registered.visit.id
    # The visitor stood at the kiosk; a passer-by at the door came later.
    at_kiosk = await faces.on_track(seen(face(1), camera=KIOSK_CAMERA))
    at_door = await faces.on_track(seen(face(2), at_offset=5))
    assert at_kiosk and at_door
    headers = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://edge") as client:
        status = (await client.get("/api/v1/kiosk/faces", headers=headers)).json()
        assert status == {"enabled": True, "signage_text": "本区域使用人脸识别",
                          "notice_version": NOTICE}
        stale = await client.post(f"/api/v1/kiosk/visits/{visit_id}/face-consent",
                                  json={"notice_version": "old"}, headers=headers)
        assert stale.status_code == 422 and stale.json()["code"] == "face_notice_mismatch"
        given = await client.post(f"/api/v1/kiosk/visits/{visit_id}/face-consent",
                                  json={"notice_version": NOTICE}, headers=headers)
        assert given.json() == {"state": "linked"}
        unknown = await client.post(f"/api/v1/kiosk/visits/{uuid.uuid4()}/face-consent",
                                    json={"notice_version": NOTICE}, headers=headers)
        assert unknown.status_code == 404
    consents = [FaceConsent.model_validate(p) for t, p in await face_events(store, settings)
                if t == "face.consent"]
    assert [(c.person_ref, c.visit_id, c.granted) for c in consents] == [
        (at_kiosk.person_id, visit_id, True)]
    person = await store.read(lambda s: s.get(FacePerson, at_kiosk.person_id))
    assert person and person.kind == "customer" and person.visit_id == visit_id
    door = await store.read(lambda s: s.get(FacePerson, at_door.person_id))
    assert door and door.kind == "visitor"  # no consent: never linked
    back = await faces.on_track(seen(near(face(1), 3), camera=CAMERA, at_offset=3600))
    assert back and back.kind == "customer"
    assert sighted(await face_events(store, settings))[-1].subject == "customer"
    assert no_consent.visit.id not in {c.visit_id for c in consents}


async def test_a_consent_given_before_the_camera_saw_the_face_takes_the_next_visitor_at_the_kiosk(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    registered = await register_visit(store, settings, VisitIn(
        phone="13800003333", party_size=1, consent=consent_in()))
    # The visitor had walked in by the door ten minutes ago: a known visitor identity.
    at_door = await faces.on_track(seen(face(2), camera=CAMERA, at_offset=-600))
    assert at_door and at_door.kind == "visitor"
    pending = await store.write(consent.grant, settings.cipher, visit_id=registered.visit.id,
                                notice_version=NOTICE, method="kiosk_screen",
                                kiosk_camera=KIOSK_CAMERA, actor="kiosk", now=utcnow())
    assert pending.person_id is None
    elsewhere = await faces.on_track(seen(face(1), camera=CAMERA))  # not the kiosk's camera
    arriving = await faces.on_track(seen(near(face(2), 7), camera=KIOSK_CAMERA))
    assert elsewhere and elsewhere.kind == "visitor"
    assert arriving and arriving.kind == "customer" and arriving.person_id == at_door.person_id
    # Withdrawn: the face data goes, and the cloud hears both.
    app = create_app(settings, sync=False)
    app.state.store, app.state.faces = store, faces
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://edge") as client:
        answer = await client.post(f"/api/v1/faces/consents/{registered.visit.id}/withdraw",
                                   headers={"Authorization": f"Bearer {ENGINEER}"})
        assert answer.json() == {"erased": [str(arriving.person_id)]}
        twice = await client.post(f"/api/v1/faces/consents/{registered.visit.id}/withdraw",
                                  headers={"Authorization": f"Bearer {ENGINEER}"})
        assert twice.json() == {"erased": []}
    events = await face_events(store, settings)
    assert [t for t, _ in events][-2:] == ["face.consent", "face.erased"]
    assert events[-2][1]["granted"] is False
    assert FaceErased.model_validate(events[-1][1]).reason == "withdrawn"
    assert await store.read(lambda s: s.get(FacePerson, arriving.person_id)) is None
    assert faces.gallery is not None and arriving.person_id not in faces.gallery.kinds
    # The same face now is a stranger again: a new temporary identity.
    stranger = await faces.on_track(seen(near(face(2), 1), camera=CAMERA, at_offset=60))
    assert stranger and stranger.person_id != arriving.person_id and stranger.kind == "visitor"


async def test_the_cloud_erases_on_request_and_retention_erases_after_90_days(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    kept = await faces.on_track(seen(face(1)))
    asked = await faces.on_track(seen(face(2)))
    old = await faces.on_track(seen(face(3)))
    assert kept and asked and old
    request_id, gone = str(uuid.uuid4()), str(uuid.uuid4())
    await feed(store, settings, erase(request_id, [str(asked.person_id), gone], utcnow()),
               cursor=1)
    erased = [FaceErased.model_validate(p) for t, p in await face_events(store, settings)
              if t == "face.erased"]
    assert [(str(e.person_ref), e.reason, str(e.request_id)) for e in erased] == [
        (str(asked.person_id), "request", request_id), (gone, "request", request_id)]
    assert await store.read(lambda s: s.get(FacePerson, asked.person_id)) is None
    await faces.refresh()  # the gallery lets go of what the cloud erased
    assert faces.gallery is not None and asked.person_id not in faces.gallery.kinds

    async def age(session: AsyncSession) -> None:
        person = await session.get(FacePerson, old.person_id)
        assert person is not None
        person.last_seen_at = utcnow() - timedelta(days=91)
        session.add(person)
    await store.write(age)
    assert await faces.run_retention(utcnow()) == [old.person_id]
    last = (await face_events(store, settings))[-1]
    assert last[0] == "face.erased" and last[1]["reason"] == "retention"
    assert await store.read(lambda s: s.get(FacePerson, kept.person_id)) is not None
    with sqlite3.connect(settings.database_path) as db:
        assert db.execute("SELECT count(*) FROM face_sighting WHERE person_id = ?",
                          (old.person_id.hex,)).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM face_template").fetchone() == (1,)


async def test_crops_are_kept_only_when_the_site_asks_and_not_past_their_time(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    jpeg = b"\xff\xd8 a face \xff\xd9"
    await faces.on_track(Seen(CAMERA, utcnow(), utcnow(), face(1), jpeg))
    with sqlite3.connect(settings.database_path) as db:
        assert db.execute("SELECT crop_enc FROM face_sighting").fetchone() == (None,)
    await feed(store, settings, switch(True, utcnow(), crop_days=7), cursor=1)
    await faces.refresh()
    assert faces.pipeline is not None and faces.pipeline.keep_crops
    await faces.on_track(Seen(CAMERA, utcnow(), utcnow(), face(2), jpeg))
    with sqlite3.connect(settings.database_path) as db:
        crops = db.execute("SELECT crop_enc, crop_expires_at FROM face_sighting "
                           "WHERE crop_enc IS NOT NULL").fetchall()
    assert len(crops) == 1 and b"a face" not in crops[0][0].encode()
    await faces.run_retention(utcnow() + timedelta(days=8))
    with sqlite3.connect(settings.database_path) as db:
        assert db.execute("SELECT count(*) FROM face_sighting WHERE crop_enc IS NOT NULL"
                          ).fetchone() == (0,)
    await faces.on_track(Seen(CAMERA, utcnow(), utcnow(), face(3), jpeg))
    await feed(store, settings, switch(True, utcnow(), crop_days=0), cursor=2)
    with sqlite3.connect(settings.database_path) as db:  # crops off: gone at once
        assert db.execute("SELECT count(*) FROM face_sighting WHERE crop_enc IS NOT NULL"
                          ).fetchone() == (0,)


async def test_retention_counts_from_the_customers_last_visit_even_without_a_face(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    long_ago = utcnow() - timedelta(days=120)
    first = await register_visit(store, settings, VisitIn(
        phone="13800005555", party_size=1, consent=consent_in()), now=long_ago)
    recorded = await faces.on_track(Seen(KIOSK_CAMERA, long_ago, long_ago, face(1)))
    assert recorded
    await store.write(consent.grant, settings.cipher, visit_id=first.visit.id,
                      notice_version=NOTICE, method="kiosk_screen", kiosk_camera=KIOSK_CAMERA,
                      actor="kiosk", now=long_ago + timedelta(seconds=30))
    # Registered again by phone ten days ago; the cameras did not see the face.
    await register_visit(store, settings, VisitIn(
        phone="13800005555", party_size=1, consent=consent_in()),
        now=utcnow() - timedelta(days=10))
    assert await faces.run_retention(utcnow()) == []
    person = await store.read(lambda s: s.get(FacePerson, recorded.person_id))
    assert person and person.kind == "customer"
    assert utcnow() - person.last_seen_at < timedelta(days=11)
    assert await faces.run_retention(utcnow() + timedelta(days=81)) == [recorded.person_id]


async def test_a_track_goes_out_when_embedded_and_again_when_it_ends_unless_faces_went_off(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    await faces.start()  # the readers' threads hand tracks to this loop
    try:
        pipeline = faces.pipeline
        assert pipeline is not None and pipeline.on_embedded is not None
        t0 = utcnow()
        track = Track(str(CAMERA), t0, t0 + timedelta(seconds=1), (0, 0, 80, 80))
        track.embedding = face(1)
        pipeline.on_embedded(track)
        track.last_seen = t0 + timedelta(seconds=6)
        pipeline.sink(track)
        events = await eventually(lambda: _sighted_events(store, settings, 2),
                                  what="opened and closed")
        assert events[0].sighting_id == events[1].sighting_id and events[1].count == 1
        assert (events[0].last_seen_at, events[1].last_seen_at) == (
            t0 + timedelta(seconds=1), t0 + timedelta(seconds=6))
        other = Track(str(CAMERA), t0, t0, (200, 0, 280, 80))
        other.embedding = face(2)
        pipeline.on_embedded(other)
        await eventually(lambda: _sighted_events(store, settings, 3), what="the second")
        await feed(store, settings, switch(False, utcnow()), cursor=1)
        await faces.refresh()
        other.last_seen = t0 + timedelta(seconds=9)
        pipeline.sink(other)  # the reader had it in hand when faces went off
        await faces.stop()
        assert len(sighted(await face_events(store, settings))) == 3
    finally:
        await faces.stop()


async def _sighted_events(store: Store, settings: EdgeSettings, at_least: int
                          ) -> list[FaceSighted] | None:
    found = sighted(await face_events(store, settings))
    return found if len(found) >= at_least else None
