"""`make bench`: referral submission (报备) at 200 concurrent brokers (issue #21),
written to docs/benchmarks.md.

100,000 customers of one project seeded set-based; 200 active brokers signed in; the API
served as operators run it (`anchang serve`, one worker per core, the rate limit on the
real Redis, raised out of the way); Locust headless on the same machine. Each referral is
parsed, de-duplicated against the project's customers and referrals under its advisory
locks, decided by the engine, stored and audited. The bare ceiling of the same work —
the number's blind index, one indexed look-up, one insert, through the same web stack
(tests/bench/bare_app.py) — alternates with it, three rounds each; medians are reported.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.identity import service as identity_service
from cloud.sales.service import PHONE_CONTEXT
from cloud.serving import default_workers
from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI, utcnow
from tests.bench.api_load import LocustRun, api_server, bare_server, run_locust, sign_in
from tests.bench.report import write_section
from tests.bench.seed import SeedSite, mark_real_numbers, seed, seed_brokers
from tests.cloud import PASSWORD
from tests.integration.conftest import ProvisionedSite
from tests.services import REDIS_URL

pytestmark = pytest.mark.bench

CUSTOMERS = int(os.environ.get("ANCHANG_BENCH_REFERRAL_CUSTOMERS", "100000"))
BROKERS = 200
KNOWN_PHONES = 5_000  # seeded customers whose numbers are real (139 + 8 digits)
SECONDS = int(os.environ.get("ANCHANG_BENCH_SECONDS", "30"))
ROUNDS = 3
SECTION = "Referral submission (issue #21)"


def _consultants(engine: Engine, site: ProvisionedSite) -> SeedSite:
    ids = []
    with Session(engine) as session:
        for i in range(5):
            user = identity_service.create_user(
                session, username=f"consultant{i}", password=PASSWORD, display_name=f"顾问{i}",
                roles=["consultant"], site_ids=[site.site_id], must_change_password=False,
                actor="bench")
            assert user.id is not None
            ids.append(user.id)
        session.commit()
    return SeedSite(site.site_id, site.project_id, tuple(ids))


def _real_numbers(engine: Engine, settings: CloudSettings) -> None:
    mark_real_numbers(engine, settings, KNOWN_PHONES)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_bare_referral (id bigserial PRIMARY KEY, "
                          "project_id int NOT NULL, phone_bidx varchar(64) NOT NULL, "
                          "customer_id int, created_at timestamptz NOT NULL DEFAULT now())"))


def _median(runs: list[LocustRun]) -> float:
    return statistics.median(r.total.rps for r in runs)


def _outcomes(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        return [(state, reason, n) for state, reason, n in conn.execute(text(
            "SELECT state, reason_code, count(*) FROM channel_referral "
            "GROUP BY state, reason_code ORDER BY count(*) DESC")).all()]


def render(*, bare: list[LocustRun], signed: list[LocustRun], paced: LocustRun,
           workers: int, seed_seconds: float, outcomes: list[tuple[str, str, int]]) -> str:
    ratio = _median(signed) / _median(bare)
    p95 = statistics.median(r.total.p95_ms for r in signed)
    when = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return "\n".join([
        f"Measured {when} (Beijing) on {platform.machine()}, {os.cpu_count()} cores, "
        "PostgreSQL 15 and Redis on the same machine, Locust (one process) too — it takes "
        "CPU from the service it measures, and the machine is shared with other test "
        f"runs, so medians and ratios are given. API: `anchang serve --workers {workers}`.",
        "",
        f"Data: {CUSTOMERS:,} customers of one project (seeded in {seed_seconds:.0f} s), "
        f"{KNOWN_PHONES:,} of them with real numbers; {BROKERS} active brokers of one "
        "agency. Each broker refers: 1 in 10 a known customer (refused: in a consultant's "
        "protection), 1 in 10 from 5,000 numbers all brokers compete for (the first "
        "valid, then refused: already referred), the rest new numbers.",
        "",
        f"### {BROKERS} brokers in a closed loop against the bare ceiling",
        "",
        f"{SECONDS} s per run, no think time, alternating, {ROUNDS} rounds. Bare: HMAC "
        "blind index + one indexed look-up + one insert in one transaction, no "
        "authentication (tests/bench/bare_app.py `POST /bare/referrals`).",
        "",
        "| | req/s (each round) | median | p95 ms (each round) |",
        "|---|---|---:|---|",
        f"| bare referral | {', '.join(f'{r.total.rps:,.0f}' for r in bare)} | "
        f"{_median(bare):,.0f} | {', '.join(f'{r.total.p95_ms:.0f}' for r in bare)} |",
        f"| referral (signed in, decided) | {', '.join(f'{r.total.rps:,.0f}' for r in signed)}"
        f" | {_median(signed):,.0f} | {', '.join(f'{r.total.p95_ms:.0f}' for r in signed)} |",
        f"| **ratio** | | **{ratio:.0%}** (target ≥ 50 %) | |",
        "",
        f"Closed-loop p95 is queueing: {BROKERS} requests in flight over {workers} workers "
        f"(median p95 {p95:.0f} ms).",
        "",
        f"### {paced.users} brokers at a broker's pace",
        "",
        f"{paced.seconds} s, each broker thinks 0.5–1.5 s between referrals (faster than "
        "any person): "
        f"{paced.total.rps:,.0f} referrals/s, p50 {paced.total.median_ms:.0f} ms, **p95 "
        f"{paced.total.p95_ms:.0f} ms** (target ≤ 150 ms), p99 {paced.total.p99_ms:.0f} ms, "
        f"errors {paced.total.errors}, shed {paced.total.shed}.",
        "",
        "Outcomes stored over the whole run (state, reason code):",
        "",
        "| state | reason | referrals |",
        "|---|---|---:|",
        *[f"| {state} | `{reason}` | {n:,} |" for state, reason, n in outcomes],
    ])


@pytest.mark.timeout(3600)
def test_referrals_at_two_hundred_brokers(
        tmp_path: Path, engine: Engine, settings: CloudSettings,
        provision_site: Callable[[str], ProvisionedSite]) -> None:
    site = provision_site("site-a")
    consultants = _consultants(engine, site)
    brokers = seed_brokers(engine, settings, BROKERS)
    started = time.monotonic()
    seed(engine, [consultants], customers=CUSTOMERS, visits=0, follow_ups=0,
         phone_enc=settings.cipher.encrypt("13800000000", context=PHONE_CONTEXT))
    _real_numbers(engine, settings)
    seed_seconds = time.monotonic() - started

    workers = default_workers()
    api = api_server(settings, workers, tmp_path, redis_url=REDIS_URL,
                     redis_prefix=settings.redis_prefix, referral_limit="1000000",
                     login_ip_limit="10000")
    bare = bare_server(settings, workers, tmp_path)
    try:
        api.start("/healthz")
        bare.start("/docs")
        plan = tmp_path / "plan.json"
        plan.write_text(json.dumps({
            "api_url": api.url, "bare_url": bare.url, "project_id": site.project_id,
            "known_phones": KNOWN_PHONES,
            "broker_tokens": [sign_in(api.url, name) for name in brokers]}))

        def locust(label: str, classes: list[str], think: float) -> LocustRun:
            return run_locust(plan=plan, classes=classes, users=BROKERS,
                              seconds=SECONDS * (2 if think else 1), think=think,
                              workdir=tmp_path, label=label)

        bare_runs: list[LocustRun] = []
        signed_runs: list[LocustRun] = []
        for i in range(ROUNDS):
            bare_runs.append(locust(f"bare {i}", ["BareReferrer"], 0))
            signed_runs.append(locust(f"referrals {i}", ["BrokerReferrer"], 0))
        paced = locust("paced", ["BrokerReferrer"], 1.0)
    finally:
        api.stop()
        bare.stop()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_bare_referral"))

    body = render(bare=bare_runs, signed=signed_runs, paced=paced, workers=workers,
                  seed_seconds=seed_seconds, outcomes=_outcomes(engine))
    write_section(SECTION, body)
    assert all(r.total.errors == 0 for r in [*signed_runs, paced]), body
    assert _median(signed_runs) >= 0.5 * _median(bare_runs), body
    assert paced.total.p95_ms <= 150, body
