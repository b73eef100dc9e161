"""Times on both cloud backends: a visit registered at a known Beijing time comes back as
zone-qualified UTC on every route, and the Shanghai day decides "today", the date
filters and the one-visit-a-day rule — tested on both sides of midnight."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlmodel import Session, select

from cloud.catalog.models import Project
from cloud.main import create_app
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from cloud.sync import provision, service
from shared.crypto import decode_key
from shared.envelope import Envelope
from shared.events import VISIT_REGISTERED
from shared.timeutil import SHANGHAI
from tests.cloud import make_user, signed_in
from tests.cloud.sales_world import envelope
from tests.conftest import make_settings, truncate_all

# 2026-11-27 23:59:30 and 2026-11-28 00:00:30 in Beijing: one minute, two days.
BEFORE_MIDNIGHT = datetime(2026, 11, 27, 23, 59, 30, tzinfo=SHANGHAI)
AFTER_MIDNIGHT = datetime(2026, 11, 28, 0, 0, 30, tzinfo=SHANGHAI)
ZONED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CloudSettings]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cloud.db'}"
        upgrade(url)
        yield make_settings(url)
        return
    settings: CloudSettings = request.getfixturevalue("settings")
    yield settings
    engine = create_engine(settings.database_url)
    truncate_all(engine)
    engine.dispose()


def _visit(key: bytes, seq: int, project_id: int, phone: str, at: datetime) -> Envelope:
    return envelope(key, "site-t", seq, VISIT_REGISTERED,
                    {"visit_id": str(uuid.uuid4()), "project_id": project_id,
                     "phone": phone, "party_size": 1}, at=at)


def _seed(settings: CloudSettings) -> None:
    engine = create_engine(settings.database_url)
    with Session(engine) as db:
        creds = provision.provision_site(db, settings=settings, site_id="site-t", name="T",
                                         projects=["一期"])
        key = decode_key(creds.site_key)
        project = db.exec(select(Project)).one()
        assert project.id is not None
        same_night = [
            _visit(key, 1, project.id, "13900000001", BEFORE_MIDNIGHT),
            # The same customer one minute later is the next Beijing day: a second visit.
            _visit(key, 2, project.id, "13900000001", AFTER_MIDNIGHT),
            # And again that Beijing day (16:00 UTC — the UTC date is yesterday's): merged.
            _visit(key, 3, project.id, "13900000001", AFTER_MIDNIGHT + timedelta(hours=20)),
        ]
        service.apply_batch(db, settings=settings, site_id="site-t", envelopes=same_night,
                            received_at=AFTER_MIDNIGHT + timedelta(days=1))
        db.commit()
        make_user(db, "hqmgr", roles=["hq_manager"], scope_all=True)
        make_user(db, "auditor", roles=["audit_admin"])
        make_user(db, "admin", roles=["sys_admin"])
    engine.dispose()


def _times(body: Any) -> Iterator[str]:
    """Every string in a JSON answer that looks like a date-time."""
    if isinstance(body, dict):
        for value in body.values():
            yield from _times(value)
    elif isinstance(body, list):
        for value in body:
            yield from _times(value)
    elif isinstance(body, str) and LOOKS_LIKE_TIME.match(body):
        yield body


def test_a_visit_at_a_known_beijing_time_reads_back_as_utc_with_its_day(
    backend: CloudSettings,
) -> None:
    _seed(backend)
    with TestClient(create_app(backend)) as client:
        hq = signed_in(client, "hqmgr")
        visits = client.get("/api/v1/visits", headers=hq).json()["items"]
        assert [(v["occurred_at"], v["visit_date"]) for v in visits] == [
            ("2026-11-27T16:00:30Z", "2026-11-28"),
            ("2026-11-27T15:59:30Z", "2026-11-27"),
        ]
        # The date filter is a Beijing calendar day.
        day = client.get("/api/v1/visits", params={"date_from": "2026-11-28",
                                                   "date_to": "2026-11-28"}, headers=hq)
        assert [v["visit_date"] for v in day.json()["items"]] == ["2026-11-28"]
        customer = client.get(f"/api/v1/customers/{visits[0]['customer_id']}", headers=hq)
        assert customer.json()["visit_count"] == 2
        assert customer.json()["first_visit_at"] == "2026-11-27T15:59:30Z"

        answers = [visits, customer.json(),
                   client.get("/api/v1/sites", headers=hq).json(),
                   client.get("/api/v1/sync/sites", headers=hq).json(),
                   client.get("/api/v1/users", headers=signed_in(client, "admin")).json(),
                   client.get("/api/v1/audit/logs", headers=signed_in(client, "auditor")).json()]
    seen = [t for answer in answers for t in _times(answer)]
    assert len(seen) > 10
    assert [t for t in seen if not ZONED.match(t)] == []
