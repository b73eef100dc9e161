"""Issue #24: a synchronous route runs and commits its request session in one thread
(cloud.db.SessionRoute), so a request costs one thread-pool hop in all (ADR 0037,
0044) — and what it wrote is committed, and what failed is rolled back, as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud import db as cloud_db
from cloud.main import create_app
from cloud.sales.models import FollowUp
from cloud.settings import CloudSettings
from tests.cloud import audit_rows, signed_in
from tests.cloud.sales_world import body, post


def _uses_session(dependant: Dependant) -> bool:
    return dependant.call is cloud_db.get_session or any(
        _uses_session(sub) for sub in dependant.dependencies)


def test_every_route_with_a_session_is_a_session_route(settings: CloudSettings) -> None:
    app = create_app(settings)
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and _uses_session(route.dependant):
            found.append(route.path)
            assert isinstance(route, cloud_db.SessionRoute), (
                f"{route.path}: make its router a cloud.routing.DomainRouter")
    assert len(found) > 100  # the walk saw the API, not an empty table


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The ends of request sessions that needed a thread-pool hop (commit: True)."""
    ended: list[bool] = []
    finish: Callable[[Session, bool], None] = cloud_db._finish

    def counted(session: Session, commit: bool) -> None:
        ended.append(commit)
        finish(session, commit)

    monkeypatch.setattr(cloud_db, "_finish", counted)
    return ended


def test_a_read_and_a_write_end_in_the_routes_own_thread(
    client: TestClient, world: dict[str, Any], db: Session, hops: list[bool]
) -> None:
    headers = signed_in(client, "consult_a")
    hops.clear()
    customer = world["site-a"].customer_id
    assert client.get(f"/api/v1/customers/{customer}", headers=headers).status_code == 200
    data = body(world["site-a"])
    assert post(client, headers, data).status_code == 201
    assert hops == []
    # Committed: another session sees the row and its audit record.
    db.expire_all()
    assert db.exec(select(FollowUp.id).where(FollowUp.id == data["id"])).all() == [data["id"]]
    assert [a.object_id for a in audit_rows(db, "follow_up.create")] == [data["id"]]


def test_a_read_takes_one_thread_hop_in_all(
    client: TestClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI would validate a synchronous route's answer in a second hop (ADR 0044)."""
    headers = signed_in(client, "consult_a")
    customer = world["site-a"].customer_id
    assert client.get(f"/api/v1/customers/{customer}", headers=headers).status_code == 200
    ran: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        ran.append(getattr(func, "__name__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    assert client.get(f"/api/v1/customers/{customer}", headers=headers).status_code == 200
    assert client.get("/api/v1/visits?limit=5", headers=headers).status_code == 200
    assert ran == ["run", "run"]


def test_a_route_that_fails_after_writing_is_rolled_back(
    settings: CloudSettings, world: dict[str, Any], db: Session, hops: list[bool],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The follow-up is flushed, then the route fails: nothing of it is committed."""
    from cloud.sales import follow_ups

    real_record = follow_ups.audit_service.record

    def failing(*args: Any, **kwargs: Any) -> None:
        real_record(*args, **kwargs)
        raise RuntimeError("after the writes")

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        headers = signed_in(client, "consult_a")
        monkeypatch.setattr(follow_ups.audit_service, "record", failing)
        hops.clear()
        data = body(world["site-a"])
        assert post(client, headers, data).status_code == 500
    assert hops == [False]
    db.expire_all()
    assert db.exec(select(FollowUp.id).where(FollowUp.id == data["id"])).all() == []
