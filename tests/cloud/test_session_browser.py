"""The browser side of a cloud session: the refresh cookie (Secure over TLS, refused
cross-site), background requests that do not keep an idle session alive, and the edge
revocation list a logout, password change, reset or disabling appends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.identity.models import AuthSession
from cloud.main import create_app
from cloud.settings import CloudSettings
from cloud.sync import feed, provision
from cloud.sync.keys import site_key
from cloud.sync.models import DownFeed, SiteLink
from shared.activity import BACKGROUND_HEADER
from shared.timeutil import parse_iso, utcnow
from tests.cloud import (
    CLIENT_IP,
    PASSWORD,
    bearer,
    login,
    make_user,
    problem,
    refresh,
    refresh_token_of,
)
from tests.conftest import make_settings

BACKGROUND = {BACKGROUND_HEADER: "1"}


@pytest.fixture
def remote(settings: CloudSettings, db: Session) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=(CLIENT_IP, 50000)) as client:
        yield client


def _last_used(db: Session) -> timedelta:
    db.rollback()
    row = db.exec(select(AuthSession).execution_options(populate_existing=True)).one()
    return utcnow() - row.last_used_at


def _age_session(db: Session, minutes: int) -> None:
    db.rollback()
    db.exec(update(AuthSession).values(last_used_at=utcnow() - timedelta(minutes=minutes)))
    db.commit()


def test_the_cookie_is_secure_over_tls_even_behind_a_trusted_proxy(
    settings: CloudSettings, db: Session
) -> None:
    make_user(db, "tls.user", roles=["consultant"])
    with TestClient(create_app(settings), base_url="https://testserver") as https:
        assert "Secure" in login(https, "tls.user").headers["set-cookie"]
    behind = make_settings(settings.database_url, trusted_proxies=["10.0.0.0/8"])
    with TestClient(create_app(behind), client=("10.1.2.3", 4000)) as proxied:
        answer = proxied.post("/api/v1/auth/login", headers={"X-Forwarded-Proto": "https"},
                              json={"username": "tls.user", "password": PASSWORD})
        assert "Secure" in answer.headers["set-cookie"]
        assert "max-age" in answer.headers["strict-transport-security"]
    with TestClient(create_app(settings), client=("10.1.2.3", 4000)) as untrusted:
        answer = untrusted.post("/api/v1/auth/login", headers={"X-Forwarded-Proto": "https"},
                                json={"username": "tls.user", "password": PASSWORD})
        assert "Secure" not in answer.headers["set-cookie"]


def test_refresh_needs_the_cookie_and_refuses_a_cross_site_request(
    remote: TestClient, db: Session
) -> None:
    make_user(db, "csrf.user", roles=["consultant"])
    token = refresh_token_of(login(remote, "csrf.user"))
    remote.cookies.clear()

    assert problem(remote.post("/api/v1/auth/refresh"))["code"] == "session_expired"
    # a body is no way in any more
    body = remote.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert problem(body)["code"] == "session_expired"
    cross = refresh(remote, token, **{"Sec-Fetch-Site": "cross-site"})
    assert problem(cross)["code"] == "session_expired"
    same = refresh(remote, token, **{"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and "access_token" in same.json()


def test_background_requests_do_not_keep_an_idle_session_alive(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    user_id = make_user(db, "idle.user", roles=["consultant"]).id
    cache = remote.app.state.principal_cache  # type: ignore[attr-defined]
    signed = login(remote, "idle.user")
    access, token = signed.json()["access_token"], refresh_token_of(signed)

    _age_session(db, 20)
    cache.apply(f"u:{user_id}")  # time passed: the process reads the session afresh
    assert remote.get("/api/v1/auth/me", headers={**bearer(access), **BACKGROUND}).status_code \
        == 200
    assert _last_used(db) > timedelta(minutes=19)  # the poll did not count
    polled = refresh(remote, token, **BACKGROUND)
    assert polled.status_code == 200
    assert _last_used(db) > timedelta(minutes=19)  # nor did its refresh

    # With only polls, the idle timeout comes: the next poll is refused.
    _age_session(db, settings.session_idle_minutes + 1)
    cache.apply(f"u:{user_id}")
    late = remote.get("/api/v1/auth/me",
                      headers={**bearer(polled.json()["access_token"]), **BACKGROUND})
    assert problem(late)["code"] == "unauthorized"


def test_a_user_action_does_keep_it_alive(remote: TestClient, db: Session) -> None:
    make_user(db, "busy.user", roles=["consultant"])
    access = login(remote, "busy.user").json()["access_token"]
    _age_session(db, 20)
    assert remote.get("/api/v1/auth/me", headers=bearer(access)).status_code == 200
    assert _last_used(db) < timedelta(minutes=1)


def _revocations(db: Session, site_id: str, *, fresh: bool = True) -> list[DownFeed]:
    if fresh:  # read what other connections committed
        db.rollback()
    return list(db.exec(select(DownFeed).where(DownFeed.site_id == site_id,
                                               DownFeed.kind == "revocation")
                        .order_by(col(DownFeed.offset))).all())


def test_logout_password_change_reset_and_disable_feed_edge_revocations(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    provision.provision_site(db, settings=settings, site_id="rev-a", name="A", projects=["一期"])
    provision.provision_site(db, settings=settings, site_id="rev-b", name="B", projects=["一期"])
    db.commit()
    user = make_user(db, "rev.consultant", roles=["consultant"], site_ids=["rev-a"])
    make_user(db, "rev.admin", roles=["sys_admin"])
    admin = bearer(login(remote, "rev.admin").json()["access_token"])

    access = login(remote, "rev.consultant").json()["access_token"]
    db.rollback()
    sid = db.exec(select(AuthSession.id).where(AuthSession.user_id == user.id)).one()
    assert remote.post("/api/v1/auth/logout", headers=bearer(access)).status_code == 204
    [logout] = _revocations(db, "rev-a")
    assert (logout.key, logout.data["session_id"], logout.data["reason"]) == (
        f"session:{sid}", sid, "logout")
    assert _revocations(db, "rev-b") == []  # not the user's site

    access = login(remote, "rev.consultant").json()["access_token"]
    changed = remote.post("/api/v1/auth/password", headers=bearer(access),
                          json={"old_password": PASSWORD, "new_password": "Lobby&Desk2027"})
    assert changed.status_code == 204
    reset = remote.post(f"/api/v1/users/{user.id}/password-reset", headers=admin, json={})
    assert reset.status_code == 200
    disabled = remote.patch(f"/api/v1/users/{user.id}", headers=admin, json={"is_active": False})
    assert disabled.status_code == 200

    rows = _revocations(db, "rev-a")
    assert [(r.key, r.data["reason"]) for r in rows[1:]] == [
        (f"user:{user.id}", "password_changed"), (f"user:{user.id}", "password_reset"),
        (f"user:{user.id}", "disabled")]
    assert abs(utcnow() - parse_iso(rows[-1].data["revoked_at"])) < timedelta(minutes=1)


def test_a_snapshot_restates_recent_revocations_once_each(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    provision.provision_site(db, settings=settings, site_id="rev-c", name="C", projects=["一期"])
    db.commit()
    make_user(db, "snap.consultant", roles=["consultant"], site_ids=["rev-c"])
    access = login(remote, "snap.consultant").json()["access_token"]
    assert remote.post("/api/v1/auth/logout", headers=bearer(access)).status_code == 204
    db.rollback()
    link = db.get(SiteLink, "rev-c")
    assert link is not None
    key = site_key(settings, link)

    for _ in range(2):  # a second snapshot must not double what the first re-stated
        start = feed.append_snapshot(db, settings, link, key)
        db.flush()
        restated = [r.key for r in _revocations(db, "rev-c", fresh=False)
                    if (r.offset or 0) > start]
        assert len(restated) == 1 and restated[0].startswith("session:")
