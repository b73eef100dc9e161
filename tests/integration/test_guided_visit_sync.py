"""扫码带看 through real sync (edge agent process, Mosquitto, the cloud consumer,
PostgreSQL): the code verified on the appliance while the broker is down, the guided
visit and a replay attempt queued, and after reconnection the referral confirmed at the
cloud exactly once, the replay recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.guided import (
    guided_referral,
    issue_code,
    on_appliance,
    referral_state,
    scans,
)
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration
PHONE = "13812340088"


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]
         ) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port)
    process.start()
    yield process
    process.stop()


def verify(edge: EdgeProcess, code: str) -> httpx.Response:
    return httpx.post(edge.url + "/api/v1/kiosk/qr/verify", json={"code": code},
                      headers={"Authorization": f"Bearer {edge.token}"}, timeout=10)


def audits(engine: Engine, action: str) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(AuditLog)
                          .where(AuditLog.action == action)).one())


def test_an_offline_check_in_confirms_the_referral_once_after_reconnection(
    engine: Engine, settings: CloudSettings, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], edge: EdgeProcess,
) -> None:
    a = sites[0]
    edge.wait_projects()
    guided = guided_referral(engine, settings, a.project_id, PHONE)
    code = issue_code(engine, settings, guided)
    # The down-feed brings the public key and the (masked) referral to the appliance.
    wait_for(lambda: on_appliance(edge.workdir / "edge.db", guided.referral_id),
             timeout=30, what="the QR key and the referral on the appliance")
    assert verify(edge, code).json()["phone_masked"] == "138****0088"

    broker.stop()
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["cloud_link"] == "offline",
             timeout=30, what="the appliance noticing the broker is gone")
    done = edge.register({"project_id": a.project_id, "phone": PHONE, "party_size": 2,
                          "qr_code": code})
    assert done.status_code == 201, done.text
    assert done.json()["referral_id"] == guided.referral_id
    assert done.json()["attribution"]["referral_state"] == "confirmed"  # provisional
    replay = edge.register({"project_id": a.project_id, "phone": PHONE, "party_size": 2,
                            "qr_code": code})
    assert replay.status_code == 422 and replay.json()["code"] == "qr_replayed"
    assert referral_state(engine, guided.referral_id) == "pending"  # nothing reached it

    broker.start()
    wait_for(lambda: referral_state(engine, guided.referral_id) == "confirmed", timeout=60,
             what="the referral confirmed at the cloud")
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0, timeout=30,
             what="the appliance's outbox drained")
    assert scans(engine) == [("accepted", "ok"), ("refused", "qr_replayed")]
    assert audits(engine, "channel.referral_redecide") == 1
    assert audits(engine, "channel.qr_check_in") == 1
    with Session(engine) as s:
        (visit,) = s.exec(select(Visit).where(Visit.project_id == a.project_id)).all()
    assert (visit.broker_id, visit.referral_id) == (guided.broker.id, guided.referral_id)
