"""`make bench`: customer search and the 销控 grid under load (issue #22, Measure).

200,000 customers and 20,000 units (200 towers of 100 over eight projects, most of a first
opening released, a third sold), seeded set-based; the API served as operators run it
(`anchang serve`, one worker per core); 100 consultants (Locust headless on the same
machine). Throughput: in a closed loop, each workload alternating with the bare ceiling —
one indexed read through the same web stack (tests/bench/bare_app.py) — in the same run,
three rounds; medians are reported. p95: the same 100 consultants at a person's pace
(0.5–1.5 s between actions, faster than anyone works), since in a closed loop p95 is
100 requests queueing for two cores — the bare read's own p95 there is above the target.
Smaller runs for a check: ANCHANG_BENCH_SALES_CUSTOMERS,
ANCHANG_BENCH_SALES_UNITS, ANCHANG_BENCH_SECONDS, ANCHANG_BENCH_ROUNDS.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.sales.service import PHONE_CONTEXT
from cloud.serving import default_workers
from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI, utcnow
from tests.bench.api_load import (
    LocustRun,
    RouteStats,
    api_server,
    bare_server,
    run_locust,
    sign_in,
)
from tests.bench.report import write_section
from tests.bench.seed import SeedSite, consultants, seed, seed_units
from tests.integration.conftest import ProvisionedSite

pytestmark = pytest.mark.bench

CUSTOMERS = int(os.environ.get("ANCHANG_BENCH_SALES_CUSTOMERS", "200000"))
UNITS = int(os.environ.get("ANCHANG_BENCH_SALES_UNITS", "20000"))
SECONDS = int(os.environ.get("ANCHANG_BENCH_SECONDS", "30"))
ROUNDS = int(os.environ.get("ANCHANG_BENCH_ROUNDS", "3"))
USERS = 100
CONSULTANTS_PER_SITE = 13  # 104 over eight sites: each Locust user signs in as its own
KNOWN_PHONES = 50  # per consultant: their customers' numbers, so searches find someone
SECTION = "Customer search and the 销控 grid (issue #22)"
# (Locust classes, the label in the report, whether the targets apply)
WORKLOADS = (("CustomerSearcher", "customer search by phone", True),
             ("GridWatcher", "grid poll (If-None-Match)", True),
             ("GridLoader", "grid full load", False))
_LABELS = frozenset(label for _, label, _ in WORKLOADS)
P95_TARGET_MS, CEILING_SHARE = 100.0, 0.6
PACE_SECONDS = 1.0  # mean think time of the paced runs


def _known_numbers(engine: Engine, settings: CloudSettings, seeds: list[SeedSite]
                   ) -> dict[int, tuple[int, list[str]]]:
    """Give some of each consultant's customers a real number's blind index: consultant →
    (project, numbers their searches find)."""
    found: dict[int, tuple[int, list[str]]] = {}
    with engine.begin() as conn:
        for s in seeds:
            for uid in s.consultant_ids:
                owned = conn.execute(text(
                    "SELECT id FROM customer WHERE owner_id = :u ORDER BY id LIMIT :n"),
                    {"u": uid, "n": KNOWN_PHONES}).scalars().all()
                phones = [f"139{uid:04d}{i:04d}" for i in range(len(owned))]
                conn.execute(text("UPDATE customer SET phone_bidx = :b WHERE id = :c"), [
                    {"b": settings.blind_index.phone(p), "c": c}
                    for p, c in zip(phones, owned, strict=True)])
                found[uid] = (s.project_id, phones)
    return found


def _of(run: LocustRun) -> RouteStats:
    """The workload's own route, or, for the bare read, the run's total."""
    return next((r for r in run.routes if r.name in _LABELS), run.total)


def _grid_etag(api_url: str, token: str, project: int) -> str:
    """The ETag of the grid a console page opened before the run holds."""
    answer = httpx.get(f"{api_url}/api/v1/inventory/projects/{project}/grid", timeout=60,
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.headers["ETag"]


def _rps(runs: list[LocustRun]) -> float:
    return statistics.median(_of(r).rps for r in runs)


def _p95(runs: list[LocustRun]) -> float:
    return statistics.median(_of(r).p95_ms for r in runs)


def _errors(runs: list[LocustRun]) -> int:
    return sum(r.total.errors + r.total.shed for r in runs)


def render(*, bare: list[LocustRun], loads: dict[str, list[LocustRun]],
           paced: dict[str, LocustRun], seed_seconds: float, workers: int,
           grid_units: int) -> str:
    when = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    ceiling = _rps(bare)
    rows = [f"| bare indexed read (ceiling) | {', '.join(f'{r.total.rps:,.0f}' for r in bare)}"
            f" | {ceiling:,.0f} | {_p95(bare):.0f} | 100 % | — | {_errors(bare)} |"]
    for _, label, held in WORKLOADS:
        runs = loads[label]
        at_pace = (f"{_of(paced[label]).p95_ms:.0f} ({_of(paced[label]).rps:,.0f} req/s)"
                   if held else "—")
        errors = _errors(runs) + (_errors([paced[label]]) if held else 0)
        rows.append(f"| {label} | {', '.join(f'{r.total.rps:,.0f}' for r in runs)} | "
                    f"{_rps(runs):,.0f} | {_p95(runs):.0f} | {_rps(runs) / ceiling:.0%} | "
                    f"{at_pace} | {errors} |")
    return "\n".join([
        f"Measured {when} (Beijing) on {platform.machine()}, {os.cpu_count()} cores, "
        "PostgreSQL on the same machine; Locust (headless, one process) on the same machine "
        "as well, taking CPU from the service it measures. API: `anchang serve --workers "
        f"{workers}` (one per core), principal cache on.",
        "",
        f"Data: {CUSTOMERS:,} customers ({CUSTOMERS:,} visits) and {UNITS:,} units over 8 "
        f"projects ({grid_units:,} in a project's grid), seeded set-based in "
        f"{seed_seconds:.0f} s (tests/bench/seed.py).",
        "",
        f"{USERS} signed-in consultants in a closed loop, each workload alternating with the "
        f"bare ceiling, {SECONDS} s per run, {ROUNDS} rounds; medians. Then the same "
        f"{USERS} at a person's pace ({PACE_SECONDS / 2:g}–{PACE_SECONDS * 1.5:g} s between "
        f"actions), {SECONDS} s, for the p95 the target is about: in the closed loop p95 is "
        "the queue of 100 requests in flight on two cores, which the bare read's own p95 "
        "shows. Search: `GET "
        "/api/v1/customers?phone=` (blind index; half the numbers are the consultant's "
        "customers; every search is audited). Poll: `GET …/inventory/projects/{id}/grid` "
        "with the ETag an open console page holds (304 while nothing changed; each user "
        "starts with the ETag read before the run). Full load: the same "
        "without it — what opening the page costs; reported, not held to the targets, since "
        "the console loads it once per page and keeps it live by polling.",
        "",
        "| workload | req/s, closed loop (each round) | median req/s | p95 ms, closed loop "
        "| of the ceiling | p95 ms at a person's pace | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Targets (search and poll): p95 ≤ {P95_TARGET_MS:.0f} ms at a person's pace and ≥ "
        f"{CEILING_SHARE:.0%} of the ceiling in the closed loop.",
    ])


@pytest.mark.timeout(3600)
def test_search_and_grid_under_load(tmp_path: Path, engine: Engine, settings: CloudSettings,
                                    sites: tuple[ProvisionedSite, ...],
                                    provision_site: Callable[[str], ProvisionedSite]) -> None:
    all_sites = [*sites, *(provision_site(f"site-{c}") for c in "cdefgh")]
    with Session(engine) as session:
        seeds = consultants(session, all_sites, per_site=CONSULTANTS_PER_SITE, prefix="s")
        session.commit()
    started = time.monotonic()
    seed(engine, seeds, customers=CUSTOMERS, visits=CUSTOMERS, follow_ups=0,
         phone_enc=settings.cipher.encrypt("13800000000", context=PHONE_CONTEXT))
    seed_units(engine, [s.project_id for s in seeds], units=UNITS,
               released_by=seeds[0].consultant_ids[0])
    known = _known_numbers(engine, settings, seeds)
    seed_seconds = time.monotonic() - started
    with engine.connect() as conn:
        first, last = conn.execute(text("SELECT min(id), max(id) FROM customer")).one()
        grid_units = conn.execute(text(
            "SELECT count(*) FROM unit WHERE project_id = :p AND state <> 'unreleased'"),
            {"p": seeds[0].project_id}).scalar_one()
        usernames: dict[int, str] = {uid: name for uid, name in conn.execute(
            text("SELECT id, username FROM app_user")).all()}

    workers = default_workers()
    api = api_server(settings, workers, tmp_path, login_ip_limit="100000")
    bare = bare_server(settings, workers, tmp_path)
    try:
        api.start("/healthz")
        bare.start("/docs")
        plan = tmp_path / "plan.json"
        plan.write_text(json.dumps({
            "api_url": api.url, "bare_url": bare.url, "first_customer": first,
            "last_customer": last,
            "sellers": [{"token": token, "project_id": project, "phones": phones,
                         "grid_etag": _grid_etag(api.url, token, project)}
                        for uid, (project, phones) in known.items()
                        for token in [sign_in(api.url, usernames[uid])]]}))

        def locust(label: str, cls: str, think: float = 0) -> LocustRun:
            return run_locust(plan=plan, classes=[cls], users=USERS, seconds=SECONDS,
                              think=think, workdir=tmp_path, label=label)

        bare_runs: list[LocustRun] = []
        loads: dict[str, list[LocustRun]] = {label: [] for _, label, _ in WORKLOADS}
        for i in range(ROUNDS):
            for cls, label, _ in WORKLOADS:
                bare_runs.append(locust(f"bare {label} {i}", "BareReader"))
                loads[label].append(locust(f"{label} {i}", cls))
        paced = {label: locust(f"{label} paced", cls, PACE_SECONDS)
                 for cls, label, held in WORKLOADS if held}
    finally:
        api.stop()
        bare.stop()

    body = render(bare=bare_runs, loads=loads, paced=paced, seed_seconds=seed_seconds,
                  workers=workers, grid_units=grid_units)
    write_section(SECTION, body)
    ceiling = _rps(bare_runs)
    for _, label, held in WORKLOADS:
        # The full load's 503s are the API shedding what it cannot serve in time, by
        # design; any other failure fails every workload.
        assert sum(r.total.errors for r in loads[label]) == 0, body
        if held:
            assert _errors(loads[label]) == 0, body
            assert _errors([paced[label]]) == 0, body
            assert _of(paced[label]).p95_ms <= P95_TARGET_MS, body
            assert _rps(loads[label]) >= CEILING_SHARE * ceiling, body
