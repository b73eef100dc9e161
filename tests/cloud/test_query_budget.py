"""Issue #24: the SQL statements each route sends, so that a regression shows.

Warm: the caller's login is in the principal cache (no query to authenticate). Cold: the
first request of a login reads it with exactly one more statement. The idle-timeout touch
adds one UPDATE at most once a minute.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from cloud.identity.models import AuthSession
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.query_count import cache_serving, statements
from tests.cloud.sales_world import PHONE_A, body

# (user, method, path) → statements when warm, as measured when the budget was set; a
# change that adds one fails here and has to say why. me: none (the principal has it
# all); visits: the page and its exact total; the rest is each route's own reading.
BUDGET: dict[tuple[str, str, str], int] = {
    ("hqadmin", "GET", "/api/v1/auth/me"): 0,
    ("hqadmin", "GET", "/api/v1/visits?limit=20"): 2,
    # The search, and its audit row (customer.search), which the read-audit writer
    # commits before the answer leaves: a shard's lock, then the row chained in its own
    # insert (ADR 0063; a group of rows, when searches wait at once: ADR 0064).
    ("hqadmin", "GET", f"/api/v1/customers?phone={PHONE_A}"): 3,
    ("consult_a", "GET", "/api/v1/visits?limit=20"): 2,
    ("consult_a", "GET", "/api/v1/follow-ups?customer_id={customer}"): 2,
    ("consult_a", "GET", "/api/v1/customers/{customer}/timeline"): 4,
    ("manager_a", "GET", "/api/v1/consultants"): 1,
    ("consult_a", "GET", "/api/v1/customers/{customer}"): 1,
    # 销售分析: one grouped statement per fact (visits, deals, changes, calls), the
    # window's subscriptions a stand-in shares (ADR 0056) and the names of the groups;
    # the funnel one statement.
    ("manager_a", "GET", "/api/v1/sales/analysis/figures?group_by=consultant"): 6,
    ("consult_a", "GET", "/api/v1/sales/analysis/funnel?group_by=channel"): 1,
}


def _path(template: str, world: dict[str, Any]) -> str:
    return template.format(customer=world["site-a"].customer_id)


@pytest.mark.parametrize(("user", "method", "path"), list(BUDGET))
def test_warm_route_statements(client: TestClient, world: dict[str, Any], user: str,
                               method: str, path: str) -> None:
    cache_serving(client.app)
    headers = signed_in(client, user)
    url = _path(path, world)
    assert client.request(method, url, headers=headers).status_code == 200
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        response = client.request(method, url, headers=headers)
    assert response.status_code == 200, response.text
    assert len(sent) == BUDGET[(user, method, path)], sent


def test_a_cold_login_costs_one_statement(client: TestClient, world: dict[str, Any]) -> None:
    headers = signed_in(client, "hqadmin")
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert len(sent) == 1, sent
    assert "auth_session" in sent[0] and "user_role" in sent[0] and "user_scope" in sent[0]


def test_the_touch_is_written_once_a_minute(client: TestClient, world: dict[str, Any],
                                            db: Session) -> None:
    cache_serving(client.app)
    headers = signed_in(client, "hqadmin")
    db.exec(update(AuthSession).values(last_used_at=utcnow() - timedelta(minutes=2)))
    db.commit()
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with statements(engine) as sent:
        for _ in range(5):
            assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert [s.split()[0] for s in sent] == ["SELECT", "UPDATE"], sent


def test_follow_up_create_statements(client: TestClient, world: dict[str, Any]) -> None:
    cache_serving(client.app)
    headers = signed_in(client, "consult_a")
    client.get("/api/v1/auth/me", headers=headers)
    data = body(world["site-a"])
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with statements(engine) as sent:
        response = client.post("/api/v1/follow-ups", json=data,
                               headers={**headers, "Idempotency-Key": data["id"]})
    assert response.status_code == 201, response.text
    # The replay lookup, the visit, the owner, one INSERT … ON CONFLICT DO NOTHING, the
    # customer's contact clock, the down-feed row and the audit chain (a shard's lock and
    # the chained insert).
    assert len(sent) == 11, [s[:60] for s in sent]
