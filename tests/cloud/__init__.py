"""Cloud tests. The helpers below build users and sessions for the identity and audit
tests, and any other domain's tests that need a signed-in user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.catalog.models import Site
from cloud.identity import refresh_cookie
from cloud.identity import service as identity_service
from cloud.identity.models import User

PASSWORD = "Anchang#2026"
CLIENT_IP = "203.0.113.7"


def add_site(db: Session, site_id: str, name: str | None = None) -> Site:
    site = Site(id=site_id, name=name or f"案场 {site_id}")
    db.add(site)
    db.commit()
    return site


def make_user(
    db: Session,
    username: str,
    *,
    roles: Iterable[str],
    site_ids: Iterable[str] = (),
    scope_all: bool = False,
    password: str = PASSWORD,
    must_change_password: bool = False,
    display_name: str | None = None,
) -> User:
    user = identity_service.create_user(
        db, username=username, password=password, display_name=display_name or username,
        roles=roles, site_ids=site_ids, scope_all=scope_all,
        must_change_password=must_change_password, actor="test",
    )
    db.commit()
    return user


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    return response


def refresh_token_of(response: httpx.Response) -> str:
    """The refresh token a login or refresh set in its HttpOnly cookie."""
    return str(response.cookies[refresh_cookie.COOKIE])


def refresh(client: TestClient, token: str, **headers: str) -> httpx.Response:
    """POST /auth/refresh presenting `token` as the cookie (the jar's own is not sent)."""
    response: httpx.Response = client.post(
        refresh_cookie.PATH, headers={"Cookie": f"{refresh_cookie.COOKIE}={token}", **headers})
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = login(client, username, password)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def fresh_user(db: Session, user_id: int | None) -> User:
    """The row as committed by the app, not the test session's cached copy."""
    db.rollback()
    user = db.get(User, user_id, populate_existing=True)
    assert user is not None
    return user


def audit_rows(db: Session, action: str) -> list[AuditLog]:
    db.rollback()
    return list(
        db.exec(
            select(AuditLog)
            .where(AuditLog.action == action)
            .order_by(col(AuditLog.id))
            .execution_options(populate_existing=True)
        ).all()
    )


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), (
        response.text
    )
    body: dict[str, Any] = response.json()
    return body
