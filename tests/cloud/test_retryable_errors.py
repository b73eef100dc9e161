"""A transaction PostgreSQL ended so that another could go on (deadlock 40P01, a lost
serializable transaction 40001) wrote nothing: the client is told to send it again
(503 server_busy + Retry-After), not that the server failed. Any other database error
stays a 500. The errors are PostgreSQL's own, raised through the real session and
route stack."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from cloud.db import SessionDep
from cloud.main import create_app
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings


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
