"""The cost of one ordinary down request (not a resync, nothing new) of a site whose
projects hold many live referrals, with the `referral` kind compared on the request (as
before ADR 0058) and appended on change (since): SQL statements and Python function calls
(deterministic), wall time (median). Printed, not written to docs/benchmarks.md: the
figures there are hand-written (ADR 0058).

    ANCHANG_BENCH_LIVE_REFERRALS=10000 PYTHONPATH=$PWD .venv/bin/pytest -m bench -s \
        tests/cloud/test_down_request_cost.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlmodel import Session, select

from cloud.bulk import insert_rows
from cloud.channel import history
from cloud.channel.feed_items import live_referrals
from cloud.channel.models import Referral
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.keys import site_key
from cloud.sync.models import DownFeed, SiteLink
from shared.timeutil import utcnow
from tests.cloud.channel_world import ChannelWorld

pytestmark = pytest.mark.bench

LIVE = int(os.environ.get("ANCHANG_BENCH_LIVE_REFERRALS", "10000"))
TIMED = 7


def _seed(db: Session, settings: CloudSettings, cw: ChannelWorld) -> None:
    now = utcnow()
    brokers = list(cw.brokers.values())
    rows: list[dict[str, Any]] = []
    for i in range(LIVE):
        number = history.number_of(settings, f"137{i:08d}")
        broker = brokers[i % len(brokers)]
        rows.append({
            "project_id": cw.project("site-a"), "broker_id": broker.id,
            "agency_id": broker.agency_id, "customer_group": "individual",
            "name_enc": settings.cipher.encrypt("张三", context=history.REFERRAL_NAME_CONTEXT),
            "phone_enc": settings.cipher.encrypt(number.full or "",
                                                 context=history.REFERRAL_PHONE_CONTEXT),
            "phone_bidx": number.bidx, "phone_given": None, "phone_masked": number.shown,
            "phone34_bidx": number.key34, "phone7_bidx": number.key7, "state": "confirmed",
            "reason_code": "referral_protected", "evidence": [], "rule_version": 1,
            "broker_live_referrals": 0, "team": None,
            "protection_until": now + timedelta(days=3), "idempotency_key": uuid.uuid4().hex,
            "created_at": now, "decided_at": now})
    insert_rows(db, Referral, rows)


def _counted(db: Session, request: Callable[[], Any]) -> tuple[int, int]:
    statements = calls = 0

    def statement(*_: Any) -> None:
        nonlocal statements
        statements += 1

    def profile(frame: FrameType, what: str, arg: Any) -> None:
        nonlocal calls
        if what in ("call", "c_call"):
            calls += 1

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", statement)
    sys.setprofile(profile)
    try:
        request()
    finally:
        sys.setprofile(None)
        event.remove(engine, "before_cursor_execute", statement)
    return statements, calls


def _slowest(db: Session, request: Callable[[], Any]) -> list[tuple[float, str]]:
    """The request's statements by their time (ms), slowest first."""
    timed: list[tuple[float, str]] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        timed.append(((time.perf_counter() - started.pop()) * 1000, " ".join(statement.split())))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return sorted(timed, reverse=True)


@pytest.fixture
def as_before() -> Iterator[Callable[[bool], None]]:
    """Switch the `referral` kind back to being compared on every request."""
    kinds = feed.derived_kinds()
    now = kinds["referral"]

    def switch(compare: bool) -> None:
        kinds["referral"] = feed.DerivedKind("referral", live_referrals, on_request=compare)

    yield switch
    kinds["referral"] = now


def test_one_down_request_with_many_live_referrals(
    cw: ChannelWorld, db: Session, settings: CloudSettings,
    as_before: Callable[[bool], None],
) -> None:
    _seed(db, settings, cw)
    link = db.get(SiteLink, "site-a")
    assert link is not None
    key = site_key(settings, link)
    as_before(True)
    feed.refresh_derived(db, "site-a", settings=settings, link=link)  # the items exist
    head = db.exec(select(func.max(DownFeed.offset)).where(
        DownFeed.site_id == "site-a")).one() or 0

    def request() -> Any:
        batch = feed.batch_after(db, settings=settings, link=link, site_key=key,
                                 cursor=head, limit=500)
        assert batch.items == [] and not batch.resync
        return batch

    figures = {}
    for name, compare in (("compared on the request", True), ("appended on change", False)):
        as_before(compare)
        request()  # warm
        statements, calls = _counted(db, request)
        times = []
        for _ in range(TIMED):
            start = time.perf_counter()
            request()
            times.append(time.perf_counter() - start)
        figures[name] = (statements, calls, statistics.median(times) * 1000)
        for ms, statement in _slowest(db, request)[:3]:
            print(f"  {name}: {ms:.1f} ms {statement[:150]}")
    print(f"\none down request, {LIVE} live referrals on the site:")
    for name, (statements, calls, ms) in figures.items():
        print(f"  {name}: {statements} statements, {calls} function calls, "
              f"{ms:.1f} ms median of {TIMED}")
    assert figures["appended on change"][0] < figures["compared on the request"][0]
