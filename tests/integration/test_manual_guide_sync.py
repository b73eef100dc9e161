"""带看 without a code through real sync (edge agent process, Mosquitto, the cloud
consumer, PostgreSQL): the receptionist picks the broker while the broker of messages is
down, the registration is retried, and after reconnection the referral is confirmed at
the cloud exactly once, with one review case and the provisional answer kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel.models import QrScan
from cloud.channel.risk_models import RiskCase
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.guided import guided_referral, on_appliance, referral_state
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for
from tests.integration.test_guided_visit_sync import audits

pytestmark = pytest.mark.integration
PHONE = "13812340066"


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]
         ) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port)
    process.start()
    yield process
    process.stop()


def test_an_offline_pick_confirms_the_referral_once_after_reconnection(
    engine: Engine, settings: CloudSettings, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], edge: EdgeProcess,
) -> None:
    a = sites[0]
    edge.wait_projects()
    guided = guided_referral(engine, settings, a.project_id, PHONE, prefix="pick")
    wait_for(lambda: on_appliance(edge.workdir / "edge.db", guided.referral_id),
             timeout=30, what="the referral on the appliance")

    broker.stop()
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["cloud_link"] == "offline",
             timeout=30, what="the appliance noticing the broker is gone")
    found = httpx.get(edge.url + "/api/v1/kiosk/guides",
                      params={"phone": PHONE, "project_id": a.project_id},
                      headers={"Authorization": f"Bearer {edge.token}"}, timeout=10)
    assert [g["referral_id"] for g in found.json()] == [guided.referral_id]
    assert found.json()[0]["agency_name"] == "pick渠道"
    body = {"project_id": a.project_id, "phone": PHONE, "party_size": 2,
            "guide_referral_id": guided.referral_id}
    done = edge.register(body, key="pick-registration-1")
    assert done.status_code == 201, done.text
    assert done.json()["guide_method"] == "manual"
    assert done.json()["attribution"]["referral_state"] == "confirmed"  # provisional
    again = edge.register(body, key="pick-registration-1")  # the answer was lost: retry
    assert again.status_code == 200 and again.json()["outcome"] == "replayed"
    assert referral_state(engine, guided.referral_id) == "pending"  # nothing reached it

    broker.start()
    wait_for(lambda: referral_state(engine, guided.referral_id) == "confirmed", timeout=60,
             what="the referral confirmed at the cloud")
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0, timeout=30,
             what="the appliance's outbox drained")
    assert audits(engine, "channel.guide_picked") == 1
    with Session(engine) as s:
        assert [(r.method, r.outcome) for r in s.exec(select(QrScan))] == [
            ("manual", "accepted")]
        assert [c.check_code for c in s.exec(select(RiskCase))] == ["manual_guide"]
        (visit,) = s.exec(select(Visit).where(Visit.project_id == a.project_id)).all()
    assert (visit.broker_id, visit.guide_method) == (guided.broker.id, "manual")
    assert visit.edge_attribution is not None
    assert visit.edge_attribution["brokers"][0]["referral_id"] == guided.referral_id
