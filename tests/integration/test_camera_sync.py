"""The camera inventory end to end: the real edge agent process finds the fake camera
over WS-Discovery (UDP multicast on loopback) and ONVIF, the field engineer confirms it,
and the record reaches PostgreSQL through a real Mosquitto and the cloud sync consumer —
with no credential anywhere on the way, and visible on the console's route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.cameras.models import SiteCamera
from cloud.sync.consumer import SyncConsumer
from cloud.sync.models import SyncEvent
from tests.cloud import make_user, signed_in
from tests.edge.cameras.fakes import camera_on_lan
from tests.fakes.onvif_camera import FakeCamera
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration

ENGINEER_TOKEN = "engineer-token-for-tests-0123456789"
ENGINEER = {"Authorization": f"Bearer {ENGINEER_TOKEN}"}


@pytest.fixture
def camera() -> FakeCamera:
    return FakeCamera(manufacturer="Zhejiang Dahua Technology Co., Ltd.", model="IPC-HFW2431S",
                      serial="6J0A1B2PAG12345", mac="3c:ef:8c:11:22:33")


@pytest.fixture
def lan(camera: FakeCamera) -> Iterator[tuple[str, int, int]]:
    with camera_on_lan(camera) as address:
        yield address


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...],
         lan: tuple[str, int, int]) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port,
                          engineer_token=ENGINEER_TOKEN, discovery_port=str(lan[2]),
                          discovery_interface="127.0.0.1", discovery_wait_seconds="1")
    process.start()
    yield process
    process.stop()


def test_a_confirmed_camera_reaches_the_console(
    edge: EdgeProcess, consumer: SyncConsumer, engine: Engine, camera: FakeCamera,
    sites: tuple[ProvisionedSite, ...], client: TestClient, db: Session,
) -> None:
    site = sites[0]
    scan = httpx.post(edge.url + "/api/v1/cameras/scan", headers=ENGINEER, timeout=30, json={
        "multicast": True, "username": camera.username, "password": camera.password})
    assert scan.status_code == 200, scan.text
    [found] = scan.json()
    assert (found["brand"], found["onvif_state"]) == ("dahua", "ok")
    confirm = httpx.post(edge.url + f"/api/v1/cameras/{found['id']}/confirm",
                         headers=ENGINEER, json={"name": "洽谈区"}, timeout=10)
    assert confirm.status_code == 200, confirm.text

    def confirmed() -> SiteCamera | None:
        with Session(engine) as session:
            row = session.exec(select(SiteCamera)).first()
            return row if row is not None and row.status == "confirmed" else None

    row = wait_for(confirmed, timeout=30, what="the confirmed camera in the cloud")
    assert (row.site_id, row.camera_id, row.name) == (site.site_id, found["id"], "洽谈区")
    assert (row.identity, row.brand, row.has_credentials) == (
        "mac:3c:ef:8c:11:22:33", "dahua", True)
    with Session(engine) as session:
        applied = session.exec(select(SyncEvent).where(
            SyncEvent.site_id == site.site_id, SyncEvent.type == "camera.updated")).all()
    assert [e.outcome for e in applied] == ["applied", "applied"]
    assert camera.password not in json.dumps(row.profiles)

    make_user(db, "ops.cam", roles=["hq_manager"], site_ids=[site.site_id])
    listed = client.get("/api/v1/cameras", params={"site_id": site.site_id},
                        headers=signed_in(client, "ops.cam"))
    assert listed.status_code == 200
    [shown] = listed.json()
    assert (shown["name"], shown["status"], len(shown["profiles"])) == ("洽谈区", "confirmed", 2)
    assert camera.password not in listed.text
