"""Issue #24: the principal cache keeps the security rules exact.

Two apps on one PostgreSQL stand for two API processes, each with its own cache and
LISTEN connection. A change made through one is refused at once by the process that
made it, and by the other as soon as PostgreSQL delivers the NOTIFY (polled here for at
most two seconds; it takes milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.identity import access
from cloud.identity.errors import NotAuthenticated
from cloud.identity.principal_cache import PrincipalCache
from cloud.identity.security import AccessClaims
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import PASSWORD, add_site, make_user, signed_in
from tests.cloud.query_count import cache_serving, statements

NEW_PASSWORD = "Xinmima#2027"
ME = "/api/v1/auth/me"


@pytest.fixture
def apps(settings: CloudSettings, db: Session) -> Iterator[tuple[TestClient, TestClient]]:
    add_site(db, "site-a")
    add_site(db, "site-b")
    make_user(db, "sysadm", roles=["sys_admin"], scope_all=True)
    make_user(db, "secadm", roles=["security_admin"], scope_all=True)
    make_user(db, "target", roles=["consultant"], site_ids=["site-a"])
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        cache_serving(a.app)
        cache_serving(b.app)
        yield a, b


def _user_id(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get(ME, headers=headers).json()["id"])


def _warm(client: TestClient, headers: dict[str, str]) -> None:
    """Answered from the cache: no statement at all."""
    assert client.get(ME, headers=headers).status_code == 200
    with statements(client.app.state.engine) as sent:  # type: ignore[attr-defined]
        assert client.get(ME, headers=headers).status_code == 200
    assert sent == []


def _refused_soon(request: Callable[[], httpx.Response], statuses: set[int]) -> None:
    deadline = time.monotonic() + 2
    while (status := request().status_code) not in statuses:
        assert time.monotonic() < deadline, f"still answered {status}"
        time.sleep(0.01)


def _change_and_check(apps: tuple[TestClient, TestClient], change: Callable[[int], None],
                      path: str, statuses: set[int]) -> None:
    a, b = apps
    target = signed_in(a, "target")
    target_id = _user_id(a, target)
    _warm(a, target)
    _warm(b, target)
    change(target_id)
    assert a.get(path, headers=target).status_code in statuses  # at once, same process
    _refused_soon(lambda: b.get(path, headers=target), statuses)  # the other process


def test_disabled_user_is_refused(apps: tuple[TestClient, TestClient]) -> None:
    admin = signed_in(apps[0], "sysadm")
    _change_and_check(apps, lambda uid: _ok(apps[0].patch(
        f"/api/v1/users/{uid}", json={"is_active": False}, headers=admin)), ME, {401, 403})


def test_role_removed_is_refused(apps: tuple[TestClient, TestClient]) -> None:
    admin = signed_in(apps[0], "secadm")
    _change_and_check(apps, lambda uid: _ok(apps[0].put(
        f"/api/v1/users/{uid}/roles", json={"roles": []}, headers=admin)),
        "/api/v1/visits", {403})


def test_scope_change_shows_at_once(apps: tuple[TestClient, TestClient]) -> None:
    a, b = apps
    admin = signed_in(a, "secadm")
    target = signed_in(a, "target")
    uid = _user_id(a, target)
    _warm(a, target)
    _warm(b, target)
    _ok(a.put(f"/api/v1/users/{uid}/scopes", json={"site_ids": ["site-b"]}, headers=admin))
    assert a.get(ME, headers=target).json()["site_ids"] == ["site-b"]
    deadline = time.monotonic() + 2
    while b.get(ME, headers=target).json()["site_ids"] != ["site-b"]:
        assert time.monotonic() < deadline, "the other process kept the old scope"
        time.sleep(0.01)


def test_logout_is_refused(apps: tuple[TestClient, TestClient]) -> None:
    a, b = apps
    target = signed_in(a, "target")
    _warm(a, target)
    _warm(b, target)
    assert a.post("/api/v1/auth/logout", headers=target).status_code == 204
    assert a.get(ME, headers=target).status_code == 401
    _refused_soon(lambda: b.get(ME, headers=target), {401})


def test_password_change_ends_the_other_sessions(apps: tuple[TestClient, TestClient]) -> None:
    a, b = apps
    phone = signed_in(a, "target")
    desk = signed_in(a, "target")
    _warm(a, desk)
    _warm(b, desk)
    _ok(a.post("/api/v1/auth/password", headers=phone,
               json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}))
    assert a.get(ME, headers=desk).status_code == 401
    _refused_soon(lambda: b.get(ME, headers=desk), {401})
    assert a.get(ME, headers=phone).status_code == 200


def test_password_reset_is_refused(apps: tuple[TestClient, TestClient]) -> None:
    admin = signed_in(apps[0], "sysadm")
    _change_and_check(apps, lambda uid: _ok(apps[0].post(
        f"/api/v1/users/{uid}/password-reset", json={}, headers=admin)), ME, {401})


def test_without_its_listener_the_cache_is_bypassed(apps: tuple[TestClient, TestClient]
                                                    ) -> None:
    a, _ = apps
    target = signed_in(a, "target")
    _warm(a, target)
    a.app.state.principal_cache.set_listening(False)  # type: ignore[attr-defined]
    with statements(a.app.state.engine) as sent:  # type: ignore[attr-defined]
        for _ in range(3):
            assert a.get(ME, headers=target).status_code == 200
    assert len(sent) == 3


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 204), response.text
    return response


def test_a_cached_token_is_refused_once_expired(settings: CloudSettings) -> None:
    cache = PrincipalCache(10, needs_listener=False)
    now = utcnow()
    cache.tokens["token"] = AccessClaims(
        user_id=1, username="target", roles=(), session_id="s", pwd_change=False,
        issued_at=now - timedelta(minutes=20), expires_at=now - timedelta(seconds=6),
        jti="j")
    with pytest.raises(NotAuthenticated):
        access.claims_of(settings, cache, "token")
