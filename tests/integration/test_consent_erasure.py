"""Issue #19 item 7 through real sync (edge agent process, Mosquitto, the cloud consumer,
PostgreSQL): the visitor's consent registered at the kiosk reaches the cloud's visit, and
a deletion carried out at the cloud reaches the appliance's copy of that visit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel.evidence_store import from_settings as evidence_store
from cloud.identity.principal import Principal
from cloud.privacy import service as privacy_service
from cloud.privacy.schemas import SubjectRequestIn
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from shared.consent import CURRENT_NOTICE_VERSION
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration
PHONE = "13812340077"


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]
         ) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port)
    process.start()
    yield process
    process.stop()


def cloud_visits(engine: Engine) -> list[Visit]:
    with Session(engine) as s:
        return list(s.exec(select(Visit)).all())


def edge_visit(edge: EdgeProcess) -> tuple[str, str, str | None, str | None, str]:
    with sqlite3.connect(edge.workdir / "edge.db") as db:
        row: tuple[str, str, str | None, str | None, str] = db.execute(
            "SELECT phone_bidx, phone_masked, name_enc, intent_enc, phone_enc FROM visit"
        ).fetchone()
    return row


def test_consent_reaches_the_cloud_and_an_erasure_reaches_the_appliance(
    engine: Engine, settings: CloudSettings, consumer: SyncConsumer,
    sites: tuple[ProvisionedSite, ...], consultant_id: int, edge: EdgeProcess,
) -> None:
    a = sites[0]
    edge.wait_projects()
    response = edge.register({"project_id": a.project_id, "phone": PHONE, "name": "陈先生",
                              "party_size": 2, "intent": "三房"})  # with the kiosk's consent
    assert response.status_code == 201, response.text
    wait_for(lambda: len(cloud_visits(engine)) == 1, timeout=30, what="the visit in the cloud")
    (visit,) = cloud_visits(engine)
    assert visit.consent_notice_version == CURRENT_NOTICE_VERSION
    assert visit.consent_method == "kiosk_screen" and visit.consent_tablet == "127.0.0.1"
    assert visit.consent_accepted_at is not None and visit.consent_recorded_at is not None

    officer = Principal(user_id=consultant_id, username="wanglei", display_name="王磊",
                        roles=frozenset({"privacy_officer"}), permissions=frozenset(),
                        site_ids=None, ip="127.0.0.1")
    with Session(engine) as s:
        request = privacy_service.create(s, principal=officer, settings=settings,
                                         data=SubjectRequestIn(kind="deletion", phone=PHONE,
                                                               channel="onsite"))
        assert request.id is not None
        erased = privacy_service.erase(s, principal=officer, settings=settings,
                                       store=evidence_store(settings), request_id=request.id)
        s.commit()
    assert erased.customers == 1

    wait_for(lambda: edge_visit(edge)[1] == "已删除", timeout=30,
             what="the erasure applied on the appliance")
    bidx, _, name_enc, intent_enc, phone_enc = edge_visit(edge)
    assert bidx.startswith("erased:") and (name_enc, intent_enc, phone_enc) == (None, None, "")
    lookup = edge.get(f"/api/v1/kiosk/customers/lookup?phone={PHONE}"
                      f"&project_id={a.project_id}").json()
    assert lookup["known"] is False and lookup["visit_count"] == 0
    with sqlite3.connect(edge.workdir / "edge.db") as db:
        assert db.execute("SELECT count(*) FROM customer_cache").fetchone() == (0,)
