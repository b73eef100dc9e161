"""Three administrators, really separate: no path lets one administrator act as another,
and an administrator unmasks personal data only by the security administrator's grant."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from cloud.identity.cli import app as admin_cli
from tests.cloud import PASSWORD, add_site, audit_rows, fresh_user, login, make_user, problem
from tests.cloud import signed_in as sign_in


@pytest.fixture
def staff(db: Session) -> dict[str, int]:
    add_site(db, "site-a")
    users = {
        "sys": make_user(db, "sys.admin", roles=["sys_admin"], scope_all=True),
        "sys2": make_user(db, "sys.other", roles=["sys_admin"], scope_all=True),
        "sec": make_user(db, "sec.admin", roles=["security_admin"]),
        "sec2": make_user(db, "sec.other", roles=["security_admin"]),
        "aud": make_user(db, "aud.admin", roles=["audit_admin"]),
        "con": make_user(db, "con.a", roles=["consultant"], site_ids=["site-a"]),
        "new": make_user(db, "new.hire", roles=[], must_change_password=True),
    }
    return {k: u.id for k, u in users.items() if u.id is not None}


ADMINS = ("sys2", "sec", "aud")


@pytest.mark.parametrize("target", ADMINS)
def test_the_system_administrator_cannot_touch_another_administrator(
    client: TestClient, db: Session, staff: dict[str, int], target: str
) -> None:
    headers = sign_in(client, "sys.admin")
    path = f"/api/v1/users/{staff[target]}"
    calls = [
        ("PATCH", path, {"is_active": False}, "admin_account_protected"),
        ("PATCH", path, {"display_name": "冒名"}, "admin_account_protected"),
        ("POST", f"{path}/password-reset", {}, "admin_password_reset_refused"),
        ("POST", f"{path}/password-reset", {"password": "Chosen#Pass2026"},
         "admin_password_reset_refused"),
        ("PUT", f"{path}/roles", {"roles": []}, "forbidden"),
        ("PUT", f"{path}/scopes", {"site_ids": ["site-a"]}, "forbidden"),
    ]
    for method, url, body, code in calls:
        response = client.request(method, url, headers=headers, json=body)
        assert (response.status_code, problem(response)["code"]) == (403, code), (method, url)
    user = fresh_user(db, staff[target])
    assert user.is_active and user.display_name != "冒名"
    # The target's own password still works: nobody learned a new one.
    assert login(client, user.username).status_code == 200
    assert audit_rows(db, "user.password_reset") == []


def test_only_the_security_administrator_keeps_administrator_accounts(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    security = sign_in(client, "sec.admin")
    auditor = sign_in(client, "aud.admin")

    disabled = client.patch(f"/api/v1/users/{staff['sys2']}", headers=security,
                            json={"is_active": False})
    assert disabled.status_code == 200, disabled.text
    assert fresh_user(db, staff["sys2"]).is_active is False
    [entry] = audit_rows(db, "user.update")
    assert (entry.actor, entry.object_id) == ("sec.admin", str(staff["sys2"]))
    # ... yet even the security administrator never sets an administrator's password ...
    reset = client.post(f"/api/v1/users/{staff['sec2']}/password-reset", headers=security,
                        json={})
    assert (reset.status_code, problem(reset)["code"]) == (403, "forbidden")
    # ... nor keeps the business users' accounts, which are the system administrator's.
    business = client.patch(f"/api/v1/users/{staff['con']}", headers=security,
                            json={"is_active": False})
    assert (business.status_code, problem(business)["code"]) == (403, "forbidden")
    # The audit administrator keeps nobody's account.
    for target in ("sys", "con"):
        refused = client.patch(f"/api/v1/users/{staff[target]}", headers=auditor,
                               json={"is_active": False})
        assert refused.status_code == 403


def test_the_system_administrator_still_keeps_business_accounts(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    headers = sign_in(client, "sys.admin")

    reset = client.post(f"/api/v1/users/{staff['con']}/password-reset", headers=headers,
                        json={})
    disabled = client.patch(f"/api/v1/users/{staff['con']}", headers=headers,
                            json={"is_active": False})

    assert reset.status_code == 200 and reset.json()["initial_password"]
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False


def test_an_administrator_unmasks_personal_data_only_by_explicit_grant(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    security = sign_in(client, "sec.admin")
    path = f"/api/v1/users/{staff['sys2']}/roles"

    for roles in (["sys_admin", "hq_manager"], ["sys_admin", "consultant"],
                  ["audit_admin", "sales_manager"]):
        refused = client.put(path, headers=security, json={"roles": roles})
        assert (refused.status_code, problem(refused)["code"]) == (
            422, "admin_personal_data_needs_grant"), roles
    # A business role that unmasks nothing needs no grant.
    plain = client.put(path, headers=security, json={"roles": ["sys_admin", "receptionist"]})
    assert plain.status_code == 200, plain.text

    granted = client.put(path, headers=security,
                         json={"roles": ["sys_admin", "hq_manager"], "personal_data_grant": True})

    assert granted.status_code == 200, granted.text
    entry = audit_rows(db, "user.roles")[-1]
    assert entry.actor == "sec.admin"
    assert entry.detail["personal_data_grant"] == ["hq_manager"]
    assert "sales:customer:unmask" in client.get(
        "/api/v1/auth/me", headers=sign_in(client, "sys.other")).json()["permissions"]


def test_an_administrator_role_needs_a_password_its_holder_chose(
    client: TestClient, db: Session, staff: dict[str, int]
) -> None:
    security = sign_in(client, "sec.admin")

    refused = client.put(f"/api/v1/users/{staff['new']}/roles", headers=security,
                         json={"roles": ["audit_admin"]})
    business = client.put(f"/api/v1/users/{staff['new']}/roles", headers=security,
                          json={"roles": ["receptionist"]})

    assert (refused.status_code, problem(refused)["code"]) == (
        409, "admin_role_needs_own_password")
    assert business.status_code == 200


def test_the_host_operator_resets_an_administrators_password(
    client: TestClient, db: Session, staff: dict[str, int], run: CliRunner
) -> None:
    old_session = sign_in(client, "sec.other")

    result = run.invoke(admin_cli, ["reset-password", "--username", "SEC.other"])

    assert result.exit_code == 0, result.output
    match = re.search(r"新密码（只显示这一次，首次登录须修改）：(\S+)", result.output)
    assert match is not None
    assert client.get("/api/v1/auth/me", headers=old_session).status_code == 401
    assert login(client, "sec.other", PASSWORD).status_code == 401
    fresh = login(client, "sec.other", match.group(1))
    assert fresh.json()["must_change_password"] is True
    [entry] = audit_rows(db, "user.password_reset")
    assert (entry.actor, entry.object_id) == ("cli", str(staff["sec2"]))
    assert match.group(1) not in str(entry.detail)
    missing = run.invoke(admin_cli, ["reset-password", "--username", "nobody"])
    assert missing.exit_code == 1
