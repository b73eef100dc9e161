"""A transaction PostgreSQL ended so that another could go on (deadlock 40P01, a lost
serializable transaction 40001) wrote nothing: the client is told to send it again
(503 server_busy + Retry-After), not that the server failed. So is a request whose
connection the database refused (too many clients) or dropped (a restart), logged as
`database_unavailable`. Any other database error stays a 500. The errors are PostgreSQL's
own, raised through the real session and route stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from cloud.db import SessionDep
from cloud.main import create_app
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings
from tests.conftest import cloud_env


@pytest.fixture
def raising(settings: CloudSettings) -> TestClient:
    router = DomainRouter()

    @router.post("/raise/{sqlstate}")
    def raise_sqlstate(sqlstate: str, session: SessionDep) -> None:
        session.execute(text(
            f"DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '{sqlstate}'; END $$"))

    app = create_app(settings)
    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_transaction_postgres_ended_for_another_is_to_be_sent_again(
        raising: TestClient, sqlstate: str) -> None:
    with raising:
        response = raising.post(f"/raise/{sqlstate}")
    assert response.status_code == 503
    assert response.json()["code"] == "server_busy"
    assert int(response.headers["Retry-After"]) >= 1


def test_another_database_error_stays_a_server_error(raising: TestClient) -> None:
    with raising:
        response = raising.post("/raise/57014")  # a cancelled statement: also OperationalError
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"



_FAILING_APP = """
from fastapi.testclient import TestClient
from cloud.main import create_app
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings
from tests.conftest import cloud_env

router = DomainRouter()

@router.get("/fail")
def fail() -> None:
    raise ValueError("customer 13912345678 broke it")

app = create_app(CloudSettings())
app.include_router(router)
with TestClient(app, raise_server_exceptions=False) as client:
    answer = client.get("/fail", headers={"X-Request-Id": "req-fail-1"})
print(answer.status_code, answer.text)
"""


def test_a_server_error_is_logged_with_its_request_id_and_masked(
        settings: CloudSettings) -> None:
    """Nothing of it leaves the server, but the operator's log keeps what failed, under
    the request's id. A process of its own: the log's stream is the process's stderr."""
    run = subprocess.run([sys.executable, "-c", _FAILING_APP], env={
        **os.environ, **cloud_env(settings)}, capture_output=True, text=True, timeout=120,
        check=True)
    answer = run.stdout.splitlines()[-1]
    assert answer.startswith("500 ") and "13912345678" not in answer
    lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    [logged] = [line for line in lines if line["event"] == "unhandled_error"]
    assert logged["request_id"] == "req-fail-1" and logged["error"] == "ValueError"
    assert "in fail\nValueError" in logged["exception"]  # the traceback, to the route
    assert "139****5678" in logged["exception"] and "13912345678" not in run.stderr
    [request] = [line for line in lines if line["event"] == "request"]
    assert (request["route"], request["status"]) == ("/fail", 500)


@pytest.fixture
def one_connection_role(engine: Engine, settings: CloudSettings) -> Iterator[str]:
    """A database URL whose role may hold one connection at a time (PostgreSQL's own
    53300, as when max_connections is reached)."""
    role = f"one_conn_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
    yield str(make_url(settings.database_url).set(username=role, password=None))
    with engine.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))


def _connect_when_free(url: str) -> Any:
    """The role's one connection, once the backend of the one just closed has ended."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + 10
    while True:
        try:
            return psycopg2.connect(dsn)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_database_that_refuses_or_drops_the_connection_answers_busy_not_an_error(
        settings: CloudSettings, engine: Engine, one_connection_role: str) -> None:
    """Too many clients, or a pooled connection the server ended (a restart, a
    failover): nothing was done, and the same request sent again succeeds."""
    router = DomainRouter()

    @router.get("/read")
    def read(session: SessionDep) -> int:
        return int(session.execute(text("SELECT 1")).scalar_one())

    app = create_app(settings.model_copy(update={"database_url": one_connection_role,
                                                    "principal_cache_seconds": 0}))
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/read").status_code == 200
        app.state.engine.dispose()  # the pooled connection goes; the holder takes the slot
        holder = _connect_when_free(one_connection_role)
        try:
            refused = client.get("/read")
        finally:
            holder.close()
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "server_busy"
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/read").status_code == 200

        with engine.begin() as conn:  # the pooled connection's backend ends
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE usename = :role"),
                         {"role": make_url(one_connection_role).username})
        dropped = client.get("/read")
        assert dropped.status_code == 503 and dropped.json()["code"] == "server_busy"
        assert client.get("/read").status_code == 200
