"""Login, lockout, refresh rotation, idle timeout, logout and the password rules, over HTTP
against the real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.identity.models import AuthSession, PasswordHistory, User
from cloud.main import create_app
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import (
    CLIENT_IP,
    PASSWORD,
    add_site,
    audit_rows,
    bearer,
    fresh_user,
    login,
    make_user,
    problem,
    refresh,
    refresh_token_of,
)
from tests.cloud.throttle import expire_locks

NEW_PASSWORD = "Kiosk&Lobby42"


@pytest.fixture
def remote(settings: CloudSettings, db: Session) -> Iterator[TestClient]:
    """The app as seen from a client at CLIENT_IP, so audited addresses can be checked."""
    with TestClient(create_app(settings), client=(CLIENT_IP, 50000)) as client:
        yield client


def _move(db: Session, model: type[User] | type[AuthSession], **values: object) -> None:
    """Shift time-stamps in the database instead of sleeping."""
    db.rollback()
    db.exec(update(model).values(**values))
    db.commit()


def test_login_returns_tokens_claims_and_scope(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    add_site(db, "site-a")
    user = make_user(db, "wang.consultant", roles=["consultant"], site_ids=["site-a"],
                     display_name="王顾问")

    response = login(remote, "Wang.Consultant ")  # names are matched case-insensitively
    refresh_token = refresh_token_of(response)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_minutes * 60
    assert body["must_change_password"] is False
    assert body["user"]["display_name"] == "王顾问"
    assert body["user"]["roles"] == ["consultant"]
    assert body["user"]["site_ids"] == ["site-a"]
    assert body["user"]["scope_all"] is False
    assert "sales:visit:read" in body["user"]["permissions"]
    assert "identity:user:read" not in body["user"]["permissions"]
    claims = jwt.decode(body["access_token"], settings.jwt_secret.get_secret_value(),
                        algorithms=["HS256"])
    assert claims["sub"] == str(user.id)
    assert claims["username"] == "wang.consultant"
    assert claims["roles"] == ["consultant"]
    assert claims["pwd_change"] is False
    assert claims["exp"] - claims["iat"] == settings.access_token_minutes * 60
    db.rollback()
    session_row = db.get(AuthSession, claims["sid"])
    assert session_row is not None and session_row.revoked_at is None
    # Only the refresh token's digest is stored, and script never sees the token: it
    # travels in an HttpOnly, SameSite=Strict cookie that only the refresh route receives.
    assert refresh_token not in session_row.refresh_hash
    assert "refresh_token" not in body and refresh_token not in response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/api/v1/auth/refresh" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS see test_refresh_cookie.py

    me = remote.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "wang.consultant"

    [entry] = audit_rows(db, "auth.login")
    assert (entry.result, entry.actor, entry.actor_id, entry.ip) == (
        "success", "wang.consultant", user.id, CLIENT_IP
    )
    assert fresh_user(db, user.id).last_login_at is not None


def test_bad_password_and_unknown_name_answer_alike_and_are_audited(
    remote: TestClient, db: Session
) -> None:
    make_user(db, "li.manager", roles=["sales_manager"])

    wrong_password = login(remote, "li.manager", "Wrong#Pass99")
    unknown_name = login(remote, "nobody.here", "Wrong#Pass99")

    for response in (wrong_password, unknown_name):
        assert response.status_code == 401
        body = problem(response)
        assert body["code"] == "invalid_credentials"
        assert body["detail"] == "用户名或密码错误"
    # The 401 rolled back the request, yet the failures were committed.
    failures = audit_rows(db, "auth.login")
    assert [(r.result, r.actor, r.ip, r.detail["reason"]) for r in failures] == [
        ("failure", "li.manager", CLIENT_IP, "bad_password"),
        ("failure", "nobody.here", CLIENT_IP, "unknown_user"),
    ]
    assert failures[0].actor_id is not None and failures[1].actor_id is None


def test_five_failures_lock_the_account_even_against_the_right_password(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "zhao.receptionist", roles=["receptionist"])

    codes = [problem(login(remote, "zhao.receptionist", f"Bad#guess{i}"))["code"]
             for i in range(settings.lockout_threshold)]

    assert codes == ["invalid_credentials"] * (settings.lockout_threshold - 1) + ["account_locked"]
    locked = login(remote, "zhao.receptionist", PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == pytest.approx(settings.lockout_minutes * 60, abs=2)
    body = problem(locked)
    assert body["code"] == "account_locked"
    assert f"{settings.lockout_minutes} 分钟" in body["detail"]
    assert body["retry_after_minutes"] == settings.lockout_minutes
    failures = [r for r in audit_rows(db, "auth.login") if r.result == "failure"]
    assert len(failures) == settings.lockout_threshold
    assert failures[-1].detail["locked"] is True
    assert failures[-1].detail["lock_seconds"] == settings.lockout_minutes * 60
    assert all(r.ip == CLIENT_IP for r in failures)

    # The lock runs out: end it in Redis rather than waiting ten minutes.
    expire_locks(settings)
    unlocked = login(remote, "zhao.receptionist", PASSWORD)
    assert unlocked.status_code == 200, unlocked.text


def test_lock_message_counts_the_remaining_minutes(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "sun.consultant", roles=["consultant"])
    for _ in range(settings.lockout_threshold):
        login(remote, "sun.consultant", "Bad#guess00")
    expire_locks(settings, seconds=200)

    response = login(remote, "sun.consultant", PASSWORD)

    body = problem(response)
    assert body["code"] == "account_locked"
    assert "4 分钟" in body["detail"]
    assert body["retry_after_minutes"] == 4
    assert 190 <= int(response.headers["Retry-After"]) <= 200


def test_a_success_resets_the_failure_count(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "qian.consultant", roles=["consultant"])
    for _ in range(settings.lockout_threshold - 1):
        login(remote, "qian.consultant", "Bad#guess00")
    assert login(remote, "qian.consultant").status_code == 200
    # Failures are consecutive ones: after a success the count starts again.
    codes = [problem(login(remote, "qian.consultant", "Bad#guess00"))["code"]
             for _ in range(settings.lockout_threshold)]
    assert codes == ["invalid_credentials"] * (settings.lockout_threshold - 1) + ["account_locked"]


def test_disabled_account_is_named_only_to_the_right_password(
    remote: TestClient, db: Session
) -> None:
    make_user(db, "old.staff", roles=["consultant"])
    _move(db, User, is_active=False)

    assert problem(login(remote, "old.staff", PASSWORD))["code"] == "account_disabled"
    assert problem(login(remote, "old.staff", "Wrong#Pass99"))["code"] == "invalid_credentials"


def test_refresh_rotates_and_a_replayed_token_ends_the_session(
    remote: TestClient, db: Session
) -> None:
    make_user(db, "zhou.manager", roles=["sales_manager"])
    signed = login(remote, "zhou.manager")
    first, first_refresh = signed.json(), refresh_token_of(signed)

    rotated = refresh(remote, first_refresh)

    assert rotated.status_code == 200, rotated.text
    second, second_refresh = rotated.json(), refresh_token_of(rotated)
    assert second_refresh != first_refresh
    assert second["access_token"] != first["access_token"]
    assert remote.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200

    # The old token comes back: someone copied it. The whole session ends.
    replay = refresh(remote, first_refresh)
    assert problem(replay)["code"] == "session_expired"
    after = refresh(remote, second_refresh)
    assert problem(after)["code"] == "session_expired"
    denied = remote.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert problem(denied)["code"] == "unauthorized"
    [entry] = audit_rows(db, "auth.refresh")
    assert (entry.result, entry.detail["reason"]) == ("failure", "token_reuse")


def test_refresh_after_the_idle_timeout_fails(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "wu.consultant", roles=["consultant"])
    token = refresh_token_of(login(remote, "wu.consultant"))
    idle = timedelta(minutes=settings.session_idle_minutes)

    _move(db, AuthSession, last_used_at=utcnow() - idle + timedelta(minutes=1))
    still_ok = refresh(remote, token)
    assert still_ok.status_code == 200, still_ok.text

    _move(db, AuthSession, last_used_at=utcnow() - idle - timedelta(minutes=1))
    expired = refresh(remote, refresh_token_of(still_ok))
    body = problem(expired)
    assert expired.status_code == 401
    assert body["code"] == "session_expired"
    assert f"{settings.session_idle_minutes} 分钟" in body["detail"]
    db.rollback()
    row = db.exec(select(AuthSession).execution_options(populate_existing=True)).one()
    assert (row.revoke_reason, row.revoked_at is not None) == ("idle", True)


def test_requests_keep_the_session_alive(remote: TestClient, db: Session) -> None:
    make_user(db, "zheng.consultant", roles=["consultant"])
    tokens = login(remote, "zheng.consultant").json()
    _move(db, AuthSession, last_used_at=utcnow() - timedelta(minutes=20))

    assert remote.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])).status_code == 200

    db.rollback()
    row = db.exec(select(AuthSession).execution_options(populate_existing=True)).one()
    assert utcnow() - row.last_used_at < timedelta(minutes=1)


def test_logout_revokes_the_session_server_side(remote: TestClient, db: Session) -> None:
    user = make_user(db, "feng.manager", roles=["sales_manager"])
    signed = login(remote, "feng.manager")
    headers = bearer(signed.json()["access_token"])

    out = remote.post("/api/v1/auth/logout", headers=headers)
    assert out.status_code == 204
    # The browser drops the cookie too.
    assert 'anchang_refresh=""' in out.headers["set-cookie"]
    assert "Max-Age=0" in out.headers["set-cookie"]

    assert problem(remote.get("/api/v1/auth/me", headers=headers))["code"] == "unauthorized"
    again = refresh(remote, refresh_token_of(signed))
    assert problem(again)["code"] == "session_expired"
    [entry] = audit_rows(db, "auth.logout")
    assert (entry.actor_id, entry.ip) == (user.id, CLIENT_IP)


def test_must_change_password_limits_the_token_until_changed(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "chen.admin", roles=["sys_admin"], must_change_password=True)

    tokens = login(remote, "chen.admin").json()

    assert tokens["must_change_password"] is True
    claims = jwt.decode(tokens["access_token"], settings.jwt_secret.get_secret_value(),
                        algorithms=["HS256"])
    assert claims["pwd_change"] is True
    headers = bearer(tokens["access_token"])
    blocked = remote.get("/api/v1/users", headers=headers)
    assert blocked.status_code == 403
    assert problem(blocked)["code"] == "password_change_required"
    me = remote.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["must_change_password"] is True

    weak = remote.post("/api/v1/auth/password", headers=headers,
                       json={"old_password": PASSWORD, "new_password": "password"})
    assert problem(weak)["code"] == "weak_password"
    same = remote.post("/api/v1/auth/password", headers=headers,
                       json={"old_password": PASSWORD, "new_password": PASSWORD})
    assert problem(same)["code"] == "password_reused"
    changed = remote.post("/api/v1/auth/password", headers=headers,
                          json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.text

    assert remote.get("/api/v1/users", headers=headers).status_code == 200
    assert login(remote, "chen.admin", NEW_PASSWORD).json()["must_change_password"] is False
    assert problem(login(remote, "chen.admin", PASSWORD))["code"] == "invalid_credentials"
    [entry] = [r for r in audit_rows(db, "auth.password_change") if r.result == "success"]
    assert entry.actor == "chen.admin"


def test_an_expired_password_must_be_changed(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "han.consultant", roles=["consultant"])
    _move(db, User,
          password_changed_at=utcnow() - timedelta(days=settings.password_expiry_days + 1))

    tokens = login(remote, "han.consultant").json()

    assert tokens["must_change_password"] is True
    blocked = remote.get("/api/v1/roles", headers=bearer(tokens["access_token"]))
    assert problem(blocked)["code"] == "password_change_required"


def test_a_wrong_old_password_counts_as_a_failed_login(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    user = make_user(db, "yang.consultant", roles=["consultant"])
    headers = bearer(login(remote, "yang.consultant").json()["access_token"])

    response = remote.post("/api/v1/auth/password", headers=headers,
                           json={"old_password": "Not#Mine123", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_old_password"
    [entry] = audit_rows(db, "auth.password_change")
    assert (entry.result, entry.detail["reason"]) == ("failure", "bad_old_password")
    # It is one of the consecutive failures that lock the account, and the lock ends
    # the session that was guessing.
    for _ in range(settings.lockout_threshold - 2):
        login(remote, "yang.consultant", "Bad#guess00")
    locked = remote.post("/api/v1/auth/password", headers=headers,
                         json={"old_password": "Not#Mine123", "new_password": NEW_PASSWORD})
    assert (locked.status_code, problem(locked)["code"]) == (429, "account_locked")
    assert remote.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert user.id is not None


def test_changing_the_password_ends_the_other_sessions(remote: TestClient, db: Session) -> None:
    make_user(db, "xu.manager", roles=["sales_manager"])
    phone = login(remote, "xu.manager").json()
    desk = login(remote, "xu.manager").json()

    changed = remote.post("/api/v1/auth/password", headers=bearer(desk["access_token"]),
                          json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert changed.status_code == 204
    assert remote.get("/api/v1/auth/me", headers=bearer(desk["access_token"])).status_code == 200
    other = remote.get("/api/v1/auth/me", headers=bearer(phone["access_token"]))
    assert problem(other)["code"] == "unauthorized"


def test_forged_or_missing_tokens_are_refused(
    remote: TestClient, db: Session, settings: CloudSettings
) -> None:
    make_user(db, "he.admin", roles=["sys_admin"])
    claims = jwt.decode(login(remote, "he.admin").json()["access_token"],
                        settings.jwt_secret.get_secret_value(), algorithms=["HS256"])
    forged = jwt.encode({**claims, "roles": ["sys_admin", "audit_admin"]},
                        "x" * 40, algorithm="HS256")
    unsigned = jwt.encode(claims, key="", algorithm="none")

    for headers in ({}, bearer("not-a-jwt"), bearer(forged), bearer(unsigned)):
        response = remote.get("/api/v1/users", headers=headers)
        assert response.status_code == 401
        assert problem(response)["code"] == "unauthorized"


def test_password_history_refuses_recent_passwords(
    db: Session, settings: CloudSettings
) -> None:
    from cloud.identity import service as identity_service
    from cloud.identity.errors import PasswordReused
    from cloud.identity.throttle import from_settings
    from tests.conftest import make_settings

    shallow = make_settings(settings.database_url, password_history=3)
    throttle = from_settings(settings)

    def change(old: str, new: str) -> None:
        identity_service.change_password(db, settings=shallow, throttle=throttle,
                                         principal=principal, old_password=old,
                                         new_password=new)
    user = make_user(db, "lu.consultant", roles=["consultant"], password="Zero#Pass000")
    principal = identity_service.load_principal(db, user=user, ip=None)
    sequence = ["One#Pass111", "Two#Pass222"]
    current = "Zero#Pass000"
    for new in sequence:
        change(current, new)
        db.commit()
        current = new

    # The last three (zero, one, two) are refused ...
    for old in ("Zero#Pass000", "One#Pass111", "Two#Pass222"):
        with pytest.raises(PasswordReused):
            change(current, old)
        db.rollback()
    change(current, "Three#Pass333")
    db.commit()
    # ... and once a fourth follows, the oldest may come back.
    change("Three#Pass333", "Zero#Pass000")
    db.commit()
    kept = db.exec(select(PasswordHistory).where(PasswordHistory.user_id == user.id)
                   .order_by(col(PasswordHistory.id))).all()
    assert len(kept) == shallow.password_history
