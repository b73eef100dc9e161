"""The cloud's face orders over the real down-feed (Mosquitto, signed batches): the site's
switch reaches `face_settings` and the running service; an erasure request deletes the
identity and its `face.erased` answer reaches the cloud; an invalid order is skipped
without holding back the rest of the batch."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from edge_agent.faces.service import FaceService
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.sync.agent import SyncAgent
from edge_agent.sync.metrics import SyncMetrics
from shared.envelope import DownItem
from shared.faces import FaceErased
from shared.timeutil import utcnow
from tests.edge.faces.support import erase, face, switch
from tests.edge.faces.test_sightings import StandIn, seen
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import eventually, settings_like

pytestmark = pytest.mark.anyio


def item(offset: int, entry: tuple[str, str, dict[str, object]]) -> DownItem:
    kind, key, data = entry
    return DownItem(offset=offset, kind=kind, key=key, data=data)  # type: ignore[arg-type]


@pytest.fixture
async def agent(store: Store, edge_settings: EdgeSettings) -> AsyncIterator[SyncAgent]:
    running = SyncAgent(edge_settings, store, SyncMetrics(CollectorRegistry()))
    yield running
    await running.stop()


async def test_the_switch_and_an_erasure_come_down_and_the_answer_goes_up(
        store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, agent: SyncAgent) -> None:
    settings = settings_like(edge_settings, faces_enabled=True)
    faces = FaceService(settings, store, engine=StandIn())
    await faces.refresh()
    assert faces.pipeline is None
    now = utcnow()
    broken = ("site.faces", "site", {"enabled": True, "changed_at": now.isoformat()})
    cloud.feed = [item(1, broken), item(2, switch(True, now))]  # no signage: refused
    await agent.start()
    await eventually(lambda: agent.down.cursor == 2, what="the switch applied")
    with sqlite3.connect(settings.database_path) as db:
        assert db.execute("SELECT enabled, notice_version FROM face_settings").fetchone() == (
            1, "faces-2026-v1")
    assert agent.metrics.value("anchang_edge_down_items_invalid_total", kind="site.faces") == 1
    await faces.refresh()
    assert faces.pipeline is not None
    recorded = await faces.on_track(seen(face(1)))
    assert recorded is not None
    request_id = str(uuid.uuid4())
    cloud.feed = [*cloud.feed, item(3, erase(request_id, [str(recorded.person_id)], utcnow())),
                  item(4, switch(False, now + timedelta(seconds=1)))]
    await eventually(lambda: agent.down.cursor == 4, within=15, what="the erasure applied")

    def erased() -> list[FaceErased]:
        with cloud.lock:
            return [FaceErased.model_validate(e.payload) for e in cloud.applied.values()
                    if e.type == "face.erased"]
    answers = await eventually(erased, within=15, what="face.erased at the cloud")
    assert [(a.person_ref, str(a.request_id), a.reason) for a in answers] == [
        (recorded.person_id, request_id, "request")]
    await faces.refresh()
    assert faces.pipeline is None and faces.gallery is None
    with cloud.lock:
        sent = [e.type for e in cloud.applied.values() if e.type.startswith("face.")]
    assert sent == ["face.sighted", "face.erased"]
