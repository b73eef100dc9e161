"""Refused attempts on sensitive routes are audited (result "denied", who, from where,
which route and permission), at most one row per user and route per minute; 403s of
other routes write nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.audit.denials import DenialLimiter
from tests.cloud import audit_rows, make_user, signed_in


def test_a_refused_sensitive_route_is_audited_once_a_minute(
    client: TestClient, db: Session
) -> None:
    make_user(db, "nosy.consultant", roles=["consultant"])
    headers = signed_in(client, "nosy.consultant")

    for _ in range(3):
        assert client.get("/api/v1/audit/logs", headers=headers).status_code == 403
    assert client.get("/api/v1/audit/logs/export", headers=headers).status_code == 403

    rows = audit_rows(db, "auth.denied")
    assert [(r.object_id, r.result) for r in rows] == [
        ("GET /api/v1/audit/logs", "denied"), ("GET /api/v1/audit/logs/export", "denied")]
    assert rows[0].actor == "nosy.consultant"
    assert rows[0].ip == "testclient"
    assert rows[0].detail == {"missing_permissions": ["audit:log:read"], "suppressed": 0}


def test_refusals_of_ordinary_routes_write_nothing(client: TestClient, db: Session) -> None:
    make_user(db, "front.desk", roles=["receptionist"])
    headers = signed_in(client, "front.desk")

    assert client.get("/api/v1/customers", headers=headers).status_code == 403

    assert audit_rows(db, "auth.denied") == []


def test_the_limiter_counts_what_it_held_back() -> None:
    limiter = DenialLimiter(window_seconds=60)
    key = (7, "GET /api/v1/audit/logs")
    assert limiter.admit(key, now=0.0) == 0
    assert [limiter.admit(key, now=t) for t in (1.0, 30.0, 59.0)] == [None, None, None]
    assert limiter.admit((8, key[1]), now=2.0) == 0  # another user has a window of its own
    assert limiter.admit(key, now=61.0) == 3
    assert limiter.admit(key, now=62.0) is None
