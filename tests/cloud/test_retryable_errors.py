"""A transaction PostgreSQL ended so that another could go on (deadlock 40P01, a lost
serializable transaction 40001) wrote nothing: the client is told to send it again
(503 server_busy + Retry-After), not that the server failed. Any other database error
stays a 500. The errors are PostgreSQL's own, raised through the real session and
route stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

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
