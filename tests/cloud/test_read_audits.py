"""Read audits committed in groups (cloud/audit/reads.py, ADR 0064), on real PostgreSQL:
each answer leaves only once its rows are committed; searches waiting at once share one
transaction; a group the database refuses, or one that cannot be written in time,
answers 503 and shows nobody; outside a request, rows stay in the caller's transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.audit import reads
from cloud.audit.chain import verify_chain
from cloud.audit.models import AuditLog
from cloud.audit.service import CHAIN_LOCK_KEY
from cloud.identity.principal import Principal
from cloud.sales import service
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.sales_world import PHONE_A

SEARCHES = 12


def _searched(db: Session) -> list[AuditLog]:
    db.rollback()
    return list(db.exec(select(AuditLog).where(AuditLog.action == "customer.search")
                        .order_by(col(AuditLog.id))).all())


@contextmanager
def _every_shard_locked(engine: Engine, settings: CloudSettings) -> Iterator[None]:
    """Hold every shard's lock on a connection of our own: a group waits for it."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), [
            {"k": CHAIN_LOCK_KEY + shard} for shard in range(settings.audit_chain_shards)])
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))


def _search(client: TestClient, headers: dict[str, str], phone: str) -> Any:
    return client.get("/api/v1/customers", headers=headers, params={"phone": phone})


def test_searches_waiting_at_once_share_one_transaction_and_each_answer_waits_for_it(
        client: TestClient, world: dict[str, Any], db: Session, engine: Engine,
        settings: CloudSettings) -> None:
    headers = signed_in(client, "hqadmin")
    assert _search(client, headers, PHONE_A).status_code == 200  # the writer is running
    with ThreadPoolExecutor(SEARCHES) as pool:
        with _every_shard_locked(engine, settings):
            answers = [pool.submit(_search, client, headers, PHONE_A) for _ in range(SEARCHES)]
            # Held: the first group waits for a shard, the rest queue behind it, and no
            # answer leaves before its row is committed.
            time.sleep(1.0)
            assert not any(a.done() for a in answers)
            assert len(_searched(db)) == 1
        assert all(a.result(timeout=30).status_code == 200 for a in answers)

    rows = _searched(db)[1:]
    assert len(rows) == SEARCHES
    # A group's rows are stamped together under its shard's lock: at most the group that
    # took the lock first and the one that queued behind it.
    assert len({(r.shard, r.at) for r in rows}) <= 2
    assert verify_chain(db, keys={}).ok


@pytest.fixture
def refusing_audit_log(engine: Engine, db: Session) -> Iterator[None]:
    """PostgreSQL refuses every search's audit row, as a full disk or a lost grant would."""
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$"))
        conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
                          "FOR EACH ROW WHEN (NEW.action = 'customer.search') "
                          "EXECUTE FUNCTION refuse_audit()"))
    yield
    db.rollback()  # the test's reads hold a lock the drop waits for
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_audit ON audit_log"))
        conn.execute(text("DROP FUNCTION refuse_audit()"))


def test_a_group_the_database_refuses_answers_503_and_shows_nobody(
        client: TestClient, world: dict[str, Any], db: Session,
        refusing_audit_log: None) -> None:
    headers = signed_in(client, "hqadmin")
    refused = _search(client, headers, PHONE_A)
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["code"] == "audit_unavailable" and "审计" in body["title"]
    assert "138" not in refused.text and "customer_id" not in refused.text
    assert _searched(db) == []


def test_a_group_not_written_in_time_answers_503(
        client: TestClient, world: dict[str, Any], db: Session, engine: Engine,
        settings: CloudSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = signed_in(client, "hqadmin")
    monkeypatch.setattr(reads, "WAIT_SECONDS", 0.5)
    with _every_shard_locked(engine, settings):
        late = _search(client, headers, PHONE_A)
    assert late.status_code == 503 and late.json()["code"] == "audit_unavailable"
    assert "超时" in late.json()["detail"]


def test_outside_a_request_the_rows_commit_or_roll_back_with_the_callers_transaction(
        world: dict[str, Any], db: Session, settings: CloudSettings) -> None:
    admin = Principal(user_id=1, username="hqadmin", display_name="总部", roles=frozenset(),
                      permissions=frozenset(), site_ids=None, ip="127.0.0.1")
    service.find_customers(db, principal=admin, settings=settings, phone=PHONE_A)
    db.rollback()
    assert _searched(db) == []
    service.find_customers(db, principal=admin, settings=settings, phone=PHONE_A)
    db.commit()
    assert len(_searched(db)) == 1
