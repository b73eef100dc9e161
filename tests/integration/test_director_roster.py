"""A sales director (销售总监) on the site's roster (ADR 0062), end to end at the API level:
the cloud's feed states each member with their roles, the appliance applies the cloud's
own batch with its down-link code, and the director signs in to the PWA through the edge
— the edge asking the real cloud routes on PostgreSQL — while the rota, the kiosk's pick
of a receiver, a call's answerer and the cloud's staff picker leave the director out.
(The broker carrying the feed is tests/integration/test_down_feed.py's.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.main import create_app as create_cloud
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.models import SiteLink
from edge_agent.main import create_app as create_edge
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.cloud import CloudClient
from edge_agent.staff_auth.deps import get_cloud
from edge_agent.store import Store
from edge_agent.sync.downlink import apply_batch
from shared.timeutil import utcnow
from tests.cloud import PASSWORD, make_user, signed_in
from tests.consent import consent_body
from tests.edge.helpers import KIOSK_TOKEN, make_settings
from tests.integration.conftest import ProvisionedSite

pytestmark = pytest.mark.integration
KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
CLOUD_URL = "http://cloud.test"
STAFF = (("wanglei", "王磊", "consultant"), ("zhaojing", "赵静", "sales_manager"),
         ("zhouzong", "周总", "sales_director"))


def through(cloud: TestClient) -> Callable[[httpx.Request], httpx.Response]:
    """The edge's cloud calls, answered by the cloud app."""
    def handle(request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type")}
        answer = cloud.request(request.method, request.url.path, params=request.url.params,
                               content=request.content, headers=headers)
        return httpx.Response(answer.status_code, headers=answer.headers,
                              content=answer.content)

    return handle


@pytest.fixture
def cloud(settings: CloudSettings, db: Session) -> Iterator[TestClient]:
    with TestClient(create_cloud(settings)) as client:
        yield client


@pytest.fixture
def site(provision_site: Callable[[str], ProvisionedSite], db: Session) -> ProvisionedSite:
    office = provision_site("site-r")
    for username, name, role in STAFF:
        make_user(db, username, roles=[role], site_ids=[office.site_id], display_name=name)
    return office


@pytest.fixture
def appliance(site: ProvisionedSite, tmp_path: Path) -> EdgeSettings:
    return make_settings(tmp_path, site_id=site.site_id, site_key=site.key_b64,
                         default_project_id=site.project_id, cloud_url=CLOUD_URL)


@pytest.fixture
def edge(appliance: EdgeSettings, cloud: TestClient) -> Iterator[TestClient]:
    app = create_edge(appliance, sync=False)
    transport = httpx.MockTransport(through(cloud))
    app.dependency_overrides[get_cloud] = lambda: CloudClient(CLOUD_URL, timeout=5,
                                                              transport=transport)
    with TestClient(app) as client:
        yield client


def feed_the_edge(db: Session, settings: CloudSettings, site: ProvisionedSite,
                  appliance: EdgeSettings) -> list[dict[str, Any]]:
    """The batch the cloud answers a first down request with, applied on the appliance;
    its roster items."""
    link = db.get(SiteLink, site.site_id)
    assert link is not None
    batch = feed.batch_after(db, settings=settings, link=link, site_key=site.key, cursor=0,
                             limit=500)
    db.commit()

    async def apply() -> None:
        store = await Store.open(appliance.database_path)
        try:
            await store.write(apply_batch, batch, utcnow())
        finally:
            await store.close()

    asyncio.run(apply())
    return [i.data for i in batch.items if i.kind == "consultant"]


def sign_in(edge: TestClient, username: str) -> httpx.Response:
    response: httpx.Response = edge.post("/api/v1/staff/login",
                                         json={"username": username, "password": PASSWORD})
    return response


def test_a_director_signs_in_at_the_edge_and_stays_off_the_rota_and_the_pickers(
    db: Session, settings: CloudSettings, site: ProvisionedSite, appliance: EdgeSettings,
    cloud: TestClient, edge: TestClient,
) -> None:
    assert sign_in(edge, "zhouzong").json()["code"] == "not_on_roster"  # nothing fed yet
    roster = feed_the_edge(db, settings, site, appliance)
    assert sorted((m["name"], m["roles"], m["active"]) for m in roster) == [
        ("周总", ["sales_director"], True), ("王磊", ["consultant"], True),
        ("赵静", ["sales_manager"], True)]
    ids = {m["name"]: m["id"] for m in roster}

    signed = sign_in(edge, "zhouzong")
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"] == {"id": ids["周总"], "name": "周总",
                                     "roles": ["sales_director"]}
    director = {"Authorization": f"Bearer {signed.json()['edge_token']}"}
    assert edge.get("/api/v1/staff/me", headers=director).status_code == 200

    # The kiosk's picks and the rota: the consultant only.
    picks = edge.get("/api/v1/kiosk/consultants", headers=KIOSK).json()
    assert [c["id"] for c in picks] == [ids["王磊"]]
    board = edge.get("/api/v1/kiosk/rota/board", headers=KIOSK).json()
    assert [c["id"] for c in board["consultants"]] == [ids["王磊"]]
    checked_in = edge.post("/api/v1/kiosk/rota/check-in", headers=KIOSK,
                           json={"consultant_id": ids["周总"]})
    assert checked_in.status_code == 422 and checked_in.json()["code"] == "not_on_rota"
    received = edge.post("/api/v1/kiosk/visits",
                         headers={**KIOSK, "Idempotency-Key": uuid.uuid4().hex},
                         json={"phone": "13800138000", "party_size": 2,
                               "consultant_id": ids["周总"], "consent": consent_body()})
    assert received.status_code == 422 and received.json()["code"] == "not_on_rota"
    # Nor does a director answer calls: they would count in the consultants' figures.
    call_id = str(uuid.uuid4())
    called = edge.post("/api/v1/staff/calls", json={"id": call_id, "phone": "13900139000"},
                       headers={**director, "Idempotency-Key": call_id})
    assert called.status_code == 422 and called.json()["code"] == "not_call_answerer"

    # The cloud's staff picker (visit filter, manager's assignment): no director either.
    manager = signed_in(cloud, "zhaojing")
    staff = cloud.get("/api/v1/consultants", params={"site_id": site.site_id},
                      headers=manager).json()
    assert sorted(m["name"] for m in staff) == ["王磊", "赵静"]
