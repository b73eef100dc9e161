"""`make bench`: 10,000 visits queued on an offline edge drain into PostgreSQL after
reconnect, exactly once; written to docs/benchmarks.md beside the same run's ceilings."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI, utcnow
from tests.bench.drain import DrainResult, run_drain
from tests.bench.report import write_section
from tests.integration.conftest import ProvisionedSite
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.bench

VISITS = int(os.environ.get("ANCHANG_BENCH_VISITS", "10000"))
TARGET_SECONDS = 30.0


def render(result: DrainResult) -> str:
    broker_rate = result.visits / result.broker_ceiling_seconds
    db_rate = result.visits / result.database_ceiling_seconds
    when = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return "\n".join([
        f"Measured {when} (Asia/Shanghai) on {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, by `make bench` "
        "(tests/bench/test_sync_bench.py).",
        "",
        "| what | visits | seconds | per second | vs. this run's ceiling |",
        "|---|---:|---:|---:|---:|",
        f"| offline edge backlog → PostgreSQL, each exactly once (end to end) | "
        f"{result.visits:,} | {result.seconds:.1f} | {result.rate:,.0f} | "
        f"{result.rate / min(broker_rate, db_rate):.0%} of the lower ceiling |",
        f"| ceiling: Mosquitto QoS 1, paho → paho, same count and size | {result.visits:,} | "
        f"{result.broker_ceiling_seconds:.1f} | {broker_rate:,.0f} | — |",
        f"| ceiling: PostgreSQL inserts of one row per visit, "
        f"transactions of the consumer's batch | {result.visits:,} | "
        f"{result.database_ceiling_seconds:.1f} | {db_rate:,.0f} | — |",
        "",
        f"Target: ≤ {TARGET_SECONDS:.0f} s for 10,000 visits. Rows in the cloud after the "
        f"run: {result.cloud_rows:,} (must equal the visits queued).",
        "The end-to-end figure includes, per visit: edge outbox read and decryption, "
        "signing, MQTT QoS 1 to the broker and on to the consumer, signature check, "
        "customer de-duplication by blind index, AES-GCM of phone and name, the visit, "
        "the sync-event row, the down-feed item, and one hash-chained audit row per "
        "applied run, committed before the ack that releases the edge's outbox rows. "
        "The ceilings are single operations (one message, one row); a synced visit "
        "writes four rows and an encrypted customer, so the ratio says how much of the "
        "bare transport and storage the protocol keeps, not a goal of 100 %.",
    ])


def test_offline_backlog_of_ten_thousand_visits_drains_within_target(
    tmp_path: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    result = run_drain(workdir=tmp_path, engine=engine, settings=settings, broker=broker,
                       site=sites[0], count=VISITS, timeout=600)
    write_section("Sync drain (issue: walking skeleton)", render(result))
    assert result.cloud_rows == VISITS
    assert result.seconds <= TARGET_SECONDS * VISITS / 10_000, render(result)
