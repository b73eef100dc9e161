"""A visitor withdraws face consent through the sales manager's app (ADR 0053), on a real
store and app: the look-up by phone is counted and audited, a consultant is refused, the
withdrawal deletes the face data at once and tells the cloud `face.consent` (withdrawn)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from httpx import ASGITransport, AsyncClient
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces import consent
from edge_agent.faces.engine import Detection, Embedding, EngineName, Frame
from edge_agent.faces.models import FaceAccess, FacePerson
from edge_agent.faces.service import FaceService
from edge_agent.faces.sightings import Seen
from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.sync.downlink import apply_batch
from shared import edge_token
from shared.envelope import DownBatch
from shared.events import CustomerSearched
from shared.faces import FaceConsent, FaceErased
from shared.timeutil import utcnow
from tests.consent import consent_in
from tests.edge.faces.support import NOTICE, face, face_events, feed, switch
from tests.edge.helpers import make_settings
from tests.edge.seed import consultant, project

pytestmark = pytest.mark.anyio
KIOSK_CAMERA = uuid.uuid4()
MANAGER, CONSULTANT = 11, 7
PHONE, OTHER = "13800005555", "13800006666"


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
    return make_settings(tmp_path, faces_enabled=True, face_kiosk_camera_id=str(KIOSK_CAMERA),
                         kiosk_lookup_per_minute=3)


@pytest.fixture
async def store(settings: EdgeSettings) -> AsyncIterator[Store]:
    opened = await Store.open(settings.database_path)
    batch = DownBatch(site_id=settings.site_id, generation="g", cursor=100, next_cursor=103,
                      items=[project(101, 1, "云栖府"),
                             consultant(102, MANAGER, "孙经理", roles=["sales_manager"]),
                             consultant(103, CONSULTANT, "王顾问")])
    await opened.write(apply_batch, batch, utcnow(), None, settings.cipher)
    yield opened
    await opened.close()


@pytest.fixture
async def faces(store: Store, settings: EdgeSettings) -> FaceService:
    service = FaceService(settings, store, engine=StandIn())
    await feed(store, settings, switch(True, utcnow()))
    await service.refresh()
    return service


def bearer(settings: EdgeSettings, user: int, role: str) -> dict[str, str]:
    token, _ = edge_token.issue(settings.site_key_bytes, user_id=user, name="x",
                                site_id=settings.site_id, roles=frozenset({role}), now=utcnow())
    return {"Authorization": f"Bearer {token}"}


async def consenting_visitor(store: Store, settings: EdgeSettings, faces: FaceService,
                             phone: str, seed: int) -> uuid.UUID:
    """A registration with face consent, its face seen at the kiosk: the person linked."""
    registered = await register_visit(store, settings, VisitIn(
        phone=phone, party_size=1, consent=consent_in()))
    now = utcnow()
    person = await faces.on_track(Seen(KIOSK_CAMERA, now - timedelta(seconds=4), now,
                                       face(seed)))
    assert person is not None
    given = await store.write(consent.grant, settings.cipher, visit_id=registered.visit.id,
                              notice_version=NOTICE, method="kiosk_screen",
                              kiosk_camera=KIOSK_CAMERA, actor="kiosk", now=utcnow())
    assert given.person_id == person.person_id
    return person.person_id


async def test_a_manager_finds_the_visitor_by_phone_and_withdraws_the_face_consent(
        store: Store, settings: EdgeSettings, faces: FaceService) -> None:
    person = await consenting_visitor(store, settings, faces, PHONE, 1)
    kept = await consenting_visitor(store, settings, faces, OTHER, 2)
    app = create_app(settings, sync=False)
    app.state.store, app.state.faces = store, faces
    boss = bearer(settings, MANAGER, "sales_manager")
    wang = bearer(settings, CONSULTANT, "consultant")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://edge") as client:
        refused = await client.get("/api/v1/staff/faces/consents", params={"phone": PHONE},
                                   headers=wang)
        assert refused.status_code == 403 and refused.json()["code"] == "manager_required"
        refused = await client.post("/api/v1/staff/faces/consents/withdraw",
                                    json={"phone": PHONE}, headers=wang)
        assert refused.status_code == 403
        found = await client.get("/api/v1/staff/faces/consents",
                                 params={"phone": "138 0000 5555"}, headers=boss)
        assert found.status_code == 200, found.text
        assert found.json()["phone_masked"] == "138****5555"
        assert [c["state"] for c in found.json()["consents"]] == ["linked"]
        assert found.json()["consents"][0]["notice_version"] == NOTICE

        done = await client.post("/api/v1/staff/faces/consents/withdraw",
                                 json={"phone": PHONE}, headers=boss)
        assert done.json() == {"withdrawn": 1, "erased": 1}
        again = await client.post("/api/v1/staff/faces/consents/withdraw",
                                  json={"phone": PHONE}, headers=boss)
        assert again.status_code == 404 and again.json()["code"] == "face_consent_not_found"
        after = await client.get("/api/v1/staff/faces/consents", params={"phone": PHONE},
                                 headers=boss)
        assert [c["state"] for c in after.json()["consents"]] == ["withdrawn"]
        # The limiter counts the manager's look-ups like a consultant's searches.
        await client.get("/api/v1/staff/faces/consents", params={"phone": OTHER}, headers=boss)
        limited = await client.get("/api/v1/staff/faces/consents", params={"phone": OTHER},
                                   headers=boss)
        assert limited.status_code == 429

    # The face data went at once, from the store and from the matcher's gallery.
    assert await store.read(lambda s: s.get(FacePerson, person)) is None
    assert await store.read(lambda s: s.get(FacePerson, kept)) is not None
    assert faces.gallery is not None and person not in faces.gallery.kinds
    events = await face_events(store, settings)
    withdrawn = [FaceConsent.model_validate(p) for t, p in events
                 if t == "face.consent" and p["granted"] is False]
    assert [w.person_ref for w in withdrawn] == [person]
    erased = [FaceErased.model_validate(p) for t, p in events if t == "face.erased"]
    assert [(e.person_ref, e.reason) for e in erased] == [(person, "withdrawn")]
    # Each look-up went up as the manager's search by phone (the cloud audits it).
    searches = [CustomerSearched.model_validate(p)
                for _, p in await face_events(store, settings, prefix="customer.searched")]
    assert [(s.consultant_id, s.phone, s.matches) for s in searches] == [
        (MANAGER, PHONE, 1), (MANAGER, PHONE, 1), (MANAGER, OTHER, 1)]

    async def access(session: AsyncSession) -> list[tuple[str, str]]:
        rows = (await session.exec(select(FaceAccess).where(
            FaceAccess.actor == f"user:{MANAGER}"))).all()
        return [(r.actor, r.action) for r in rows]
    actions = [a for _, a in await store.read(access)]
    assert actions.count("consent_lookup") == 3 and "consent_withdrawn" in actions
