"""User and role administration over HTTP: who may do what, and what it leaves behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from cloud.identity import service as identity_service
from cloud.identity.errors import (
    InvalidUsername,
    RoleConflict,
    UnknownRole,
    UnknownSite,
    UsernameTaken,
)
from cloud.identity.models import User
from cloud.identity.security import password_problems
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import (
    PASSWORD,
    add_site,
    audit_rows,
    fresh_user,
    login,
    make_user,
    problem,
    signed_in,
)


@pytest.fixture
def staff(db: Session) -> dict[str, int]:
    """A small organisation: one of each administrator and a consultant at site A."""
    add_site(db, "site-a")
    add_site(db, "site-b")
    users = {
        "sys": make_user(db, "sys.admin", roles=["sys_admin"]),
        "sec": make_user(db, "sec.admin", roles=["security_admin"]),
        "aud": make_user(db, "aud.admin", roles=["audit_admin"]),
        "con": make_user(db, "con.a", roles=["consultant"], site_ids=["site-a"]),
    }
    return {k: u.id for k, u in users.items() if u.id is not None}


def test_a_site_consultant_is_refused_every_administration_route(
    client: TestClient, staff: dict[str, int]
) -> None:
    headers = signed_in(client, "con.a")
    target = staff["sys"]
    calls = [
        ("GET", "/api/v1/users", None),
        ("GET", f"/api/v1/users/{target}", None),
        ("POST", "/api/v1/users", {"username": "new.user", "display_name": "新人"}),
        ("PATCH", f"/api/v1/users/{target}", {"is_active": False}),
        ("POST", f"/api/v1/users/{target}/password-reset", {}),
        ("PUT", f"/api/v1/users/{target}/roles", {"roles": ["consultant"]}),
        ("PUT", f"/api/v1/users/{target}/scopes", {"site_ids": ["site-b"]}),
        ("GET", "/api/v1/roles", None),
    ]
    for method, path, body in calls:
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert problem(response)["code"] == "forbidden"
    # Nothing changed on the way.
    assert client.get("/api/v1/auth/me", headers=headers).json()["roles"] == ["consultant"]


def test_duties_are_separated_between_administrators(
    client: TestClient, staff: dict[str, int]
) -> None:
    sys_headers = signed_in(client, "sys.admin")
    sec_headers = signed_in(client, "sec.admin")
    aud_headers = signed_in(client, "aud.admin")

    # The system administrator creates accounts but cannot grant roles ...
    grant = client.post("/api/v1/users", headers=sys_headers,
                        json={"username": "x.user", "display_name": "某人",
                              "roles": ["hq_manager"]})
    assert problem(grant)["code"] == "forbidden"
    assert client.put(f"/api/v1/users/{staff['con']}/roles", headers=sys_headers,
                      json={"roles": ["sales_manager"]}).status_code == 403
    # ... the security administrator grants roles but cannot create or disable accounts ...
    assert client.post("/api/v1/users", headers=sec_headers,
                       json={"username": "y.user", "display_name": "某人"}).status_code == 403
    assert client.patch(f"/api/v1/users/{staff['con']}", headers=sec_headers,
                        json={"is_active": False}).status_code == 403
    # ... and the audit administrator reads the audit log and nothing else.
    assert client.get("/api/v1/users", headers=aud_headers).status_code == 403
    assert client.get("/api/v1/audit/logs", headers=aud_headers).status_code == 200
    assert client.get("/api/v1/audit/logs", headers=sys_headers).status_code == 403


def test_a_created_user_gets_a_one_time_password_to_change(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    headers = signed_in(client, "sys.admin")

    created = client.post("/api/v1/users", headers=headers,
                          json={"username": "Ma.Consultant", "display_name": "马顾问"})

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["user"]["username"] == "ma.consultant"
    assert body["user"]["must_change_password"] is True
    assert body["user"]["roles"] == [] and body["user"]["site_ids"] == []
    initial = body["initial_password"]
    assert password_problems(initial, username="ma.consultant") == []
    first = login(client, "ma.consultant", initial).json()
    assert first["must_change_password"] is True
    listed = client.get(f"/api/v1/users/{body['user']['id']}", headers=headers).json()
    assert "initial_password" not in listed
    [entry] = [r for r in audit_rows(db, "user.create") if r.actor == "sys.admin"]
    assert entry.object_id == str(body["user"]["id"])
    assert initial not in str(entry.detail)


def test_creating_a_taken_name_is_a_conflict(client: TestClient, staff: dict[str, int]) -> None:
    headers = signed_in(client, "sys.admin")
    response = client.post("/api/v1/users", headers=headers,
                           json={"username": "CON.A", "display_name": "重名"})
    assert response.status_code == 409
    assert problem(response)["code"] == "username_taken"


def test_unknown_fields_are_refused(client: TestClient, staff: dict[str, int]) -> None:
    headers = signed_in(client, "sys.admin")
    response = client.patch(f"/api/v1/users/{staff['con']}", headers=headers,
                            json={"display_name": "新名", "is_superuser": True})
    assert response.status_code == 422
    assert problem(response)["code"] == "validation_failed"


def test_role_and_scope_changes_apply_at_once_and_are_audited(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    consultant = signed_in(client, "con.a")
    security = signed_in(client, "sec.admin")
    assert client.get("/api/v1/roles", headers=consultant).status_code == 403

    roles = client.put(f"/api/v1/users/{staff['con']}/roles", headers=security,
                       json={"roles": ["consultant", "sales_manager", "security_admin"],
                             "personal_data_grant": True})
    scopes = client.put(f"/api/v1/users/{staff['con']}/scopes", headers=security,
                        json={"site_ids": ["site-a", "site-b"]})

    assert roles.status_code == 200, roles.text
    assert roles.json()["roles"] == ["consultant", "sales_manager", "security_admin"]
    assert scopes.json()["site_ids"] == ["site-a", "site-b"]
    # The same access token now carries the new rights: they are read per request.
    me = client.get("/api/v1/auth/me", headers=consultant).json()
    assert "identity:role:read" in me["permissions"]
    assert me["site_ids"] == ["site-a", "site-b"]
    assert client.get("/api/v1/roles", headers=consultant).status_code == 200
    [role_entry] = audit_rows(db, "user.roles")
    assert role_entry.actor == "sec.admin"
    assert role_entry.detail == {
        "before": ["consultant"],
        "after": ["consultant", "sales_manager", "security_admin"],
        "personal_data_grant": ["consultant", "sales_manager"],
    }
    [scope_entry] = audit_rows(db, "user.scopes")
    assert scope_entry.detail["before"] == {"scope_all": False, "site_ids": ["site-a"]}
    assert scope_entry.detail["after"] == {"scope_all": False, "site_ids": ["site-a", "site-b"]}


def test_bad_roles_sites_and_self_changes_are_refused(
    client: TestClient, staff: dict[str, int]
) -> None:
    security = signed_in(client, "sec.admin")
    target = f"/api/v1/users/{staff['con']}"
    cases = [
        (f"{target}/roles", {"roles": ["god_mode"]}, 422, "unknown_role"),
        (f"{target}/roles", {"roles": ["audit_admin", "security_admin"]}, 422, "role_conflict"),
        (f"{target}/scopes", {"site_ids": ["site-x"]}, 422, "unknown_site"),
        (f"{target}/roles", {"roles": ["sys_admin", "security_admin"]}, 422, "role_conflict"),
        (f"/api/v1/users/{staff['sec']}/roles", {"roles": ["security_admin", "hq_manager"]},
         403, "self_change_refused"),
        ("/api/v1/users/999999/roles", {"roles": ["consultant"]}, 404, "user_not_found"),
    ]
    for path, body, status, code in cases:
        response = client.put(path, headers=security, json=body)
        assert (response.status_code, problem(response)["code"]) == (status, code), path


def test_disabling_a_user_ends_their_sessions(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    consultant = signed_in(client, "con.a")
    admin = signed_in(client, "sys.admin")

    response = client.patch(f"/api/v1/users/{staff['con']}", headers=admin,
                            json={"is_active": False})

    assert response.status_code == 200 and response.json()["is_active"] is False
    assert problem(client.get("/api/v1/auth/me", headers=consultant))["code"] == "unauthorized"
    assert problem(login(client, "con.a"))["code"] == "account_disabled"
    myself = client.patch(f"/api/v1/users/{staff['sys']}", headers=admin,
                          json={"is_active": False})
    assert problem(myself)["code"] == "self_change_refused"
    [entry] = audit_rows(db, "user.update")
    assert entry.detail == {"changes": {"is_active": [True, False]}}


def test_password_reset_unlocks_and_forces_a_change(
    client: TestClient, db: Session, staff: dict[str, int], settings: CloudSettings
) -> None:
    admin = signed_in(client, "sys.admin")
    old_session = signed_in(client, "con.a")
    for _ in range(settings.lockout_threshold):
        login(client, "con.a", "Bad#guess00")
    assert problem(login(client, "con.a"))["code"] == "account_locked"

    response = client.post(f"/api/v1/users/{staff['con']}/password-reset", headers=admin, json={})

    assert response.status_code == 200, response.text
    temporary = response.json()["initial_password"]
    assert client.get("/api/v1/auth/me", headers=old_session).status_code == 401
    assert problem(login(client, "con.a", PASSWORD))["code"] == "invalid_credentials"
    # The reset ended the lock: the new password works from the same source at once.
    assert login(client, "con.a", temporary).json()["must_change_password"] is True


def test_users_page_through_a_cursor(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    for i in range(5):
        make_user(db, f"page.user{i}", roles=["receptionist"])
    headers = signed_in(client, "sys.admin")

    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/users", headers=headers, params=params).json()
        seen += [u["id"] for u in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3  # 9 users, 3 a page
    assert seen == sorted(seen) and len(set(seen)) == 9
    found = client.get("/api/v1/users", headers=headers, params={"q": "PAGE.USER3"}).json()
    assert [u["username"] for u in found["items"]] == ["page.user3"]


def test_roles_list_names_every_builtin_role(client: TestClient, staff: dict[str, int]) -> None:
    body = client.get("/api/v1/roles", headers=signed_in(client, "sec.admin")).json()
    names = {r["code"]: r["name"] for r in body}
    assert names["consultant"] == "置业顾问"
    assert names["audit_admin"] == "审计管理员"
    audit = next(r for r in body if r["code"] == "audit_admin")
    assert audit["permissions"] == ["audit:log:export", "audit:log:read"]


def test_create_user_checks_its_input(db: Session) -> None:
    add_site(db, "site-a")
    make_user(db, "taken.name", roles=[])

    def create(username: str, roles: list[str], site_ids: tuple[str, ...] = ("site-a",)) -> None:
        identity_service.create_user(db, username=username, password=PASSWORD,
                                     display_name="X", roles=roles, site_ids=site_ids)

    with pytest.raises(UsernameTaken):
        create("Taken.Name", [])
    db.rollback()
    for username, roles, error in [
        ("ab", [], InvalidUsername),
        ("has space", [], InvalidUsername),
        ("ok.name", ["root"], UnknownRole),
        ("ok.name", ["audit_admin", "sys_admin"], RoleConflict),
    ]:
        with pytest.raises(error):
            create(username, roles)
        db.rollback()
    with pytest.raises(UnknownSite):
        create("ok.name", [], ("nowhere",))


def test_accounts_unused_for_ninety_days_are_disabled(db: Session) -> None:
    idle = make_user(db, "idle.user", roles=["consultant"])
    active = make_user(db, "busy.user", roles=["consultant"])
    db.exec(update(User).where(col(User.id) == idle.id)
            .values(created_at=utcnow() - timedelta(days=200),
                    last_login_at=utcnow() - timedelta(days=91)))
    db.commit()

    disabled = identity_service.disable_inactive(db)
    db.commit()

    assert disabled == [idle.id]
    assert fresh_user(db, idle.id).is_active is False
    assert fresh_user(db, active.id).is_active is True
    [entry] = audit_rows(db, "user.disable_inactive")
    assert entry.object_id == str(idle.id)
