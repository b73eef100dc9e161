"""A short seeded run of the sync-drain benchmark inside the ordinary suite, with the
kiosk registering through its API while the backlog drains."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from tests.bench.drain import run_drain
from tests.integration.conftest import ProvisionedSite
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration


def test_offline_backlog_drains_exactly_once_in_seq_order_while_the_kiosk_registers(
    tmp_path: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    result = run_drain(workdir=tmp_path, engine=engine, settings=settings, broker=broker,
                       site=sites[0], count=300, timeout=60, registrations_per_second=20,
                       after_seconds=1)
    assert result.during is not None and result.after is not None
    assert result.during.failures == result.after.failures == 0
    assert len(result.after.latencies) > 0
    total = 300 + result.registered
    assert result.cloud_rows == total
    with Session(engine) as s:
        seqs = list(s.exec(select(Visit.event_seq).order_by(col(Visit.event_seq))).all())
        phones = len(set(s.exec(select(Visit.customer_id)).all()))
    assert seqs == list(range(1, total + 1))
    assert phones == total  # every registration a visitor of its own, none lost or doubled
    assert 0 < result.seconds < result.from_start_seconds
