"""A short seeded run of the sync-drain benchmark inside the ordinary suite."""

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


def test_offline_backlog_drains_exactly_once_in_seq_order(
    tmp_path: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    result = run_drain(workdir=tmp_path, engine=engine, settings=settings, broker=broker,
                       site=sites[0], count=300, timeout=60)
    assert result.cloud_rows == 300
    with Session(engine) as s:
        seqs = list(s.exec(select(Visit.event_seq).order_by(col(Visit.event_seq))).all())
    assert seqs == list(range(1, 301))
