"""`anchang admin create`: the only way the first administrator comes to exist."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from cloud.identity import service as identity_service
from cloud.identity.cli import app as admin_cli
from cloud.identity.models import User
from tests.cloud import add_site, audit_rows, login

STRONG = "Harbour!Gate77"


def _user(db: Session, username: str) -> User | None:
    db.rollback()
    return db.exec(select(User).where(User.username == username)).first()


def test_there_are_no_default_accounts(db: Session) -> None:
    db.rollback()
    assert db.exec(select(User)).all() == []


def test_first_admin_with_a_generated_password(
    run: CliRunner, db: Session, client: TestClient
) -> None:
    result = run.invoke(admin_cli, ["create", "--username", "root.admin",
                                    "--display-name", "总部管理员"])

    assert result.exit_code == 0, result.output
    match = re.search(r"初始密码（只显示这一次，首次登录须修改）：(\S+)", result.output)
    assert match is not None, result.output
    password = match.group(1)
    user = _user(db, "root.admin")
    assert user is not None
    assert user.display_name == "总部管理员"
    assert user.scope_all is True and user.must_change_password is True
    view = identity_service.get_user(db, user_id=user.id or 0)
    # The system administrator's duties only: no role that unmasks personal data.
    assert view.roles == {"sys_admin"}

    signed_in = login(client, "root.admin", password)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["must_change_password"] is True
    [entry] = audit_rows(db, "user.create")
    assert (entry.actor, entry.actor_id, entry.object_id) == ("cli", None, str(user.id))
    assert password not in str(entry.detail)


def test_an_operator_supplied_password_needs_no_change(
    run: CliRunner, db: Session, client: TestClient
) -> None:
    result = run.invoke(admin_cli, ["create", "--username", "ops.user", "--role", "hq_manager",
                                    "--password-stdin"], input=STRONG + "\n")

    assert result.exit_code == 0, result.output
    assert STRONG not in result.output
    assert "初始密码" not in result.output
    user = _user(db, "ops.user")
    assert user is not None and user.must_change_password is False
    assert login(client, "ops.user", STRONG).json()["must_change_password"] is False


def test_an_administrator_always_chooses_their_own_password(
    run: CliRunner, db: Session, client: TestClient
) -> None:
    result = run.invoke(admin_cli, ["create", "--username", "ops.admin", "--password-stdin"],
                        input=STRONG + "\n")

    assert result.exit_code == 0, result.output
    user = _user(db, "ops.admin")
    assert user is not None and user.must_change_password is True
    assert login(client, "ops.admin", STRONG).json()["must_change_password"] is True


def test_roles_and_sites_can_be_given(run: CliRunner, db: Session) -> None:
    add_site(db, "site-a")

    result = run.invoke(admin_cli, ["create", "--username", "site.manager", "--role",
                                    "sales_manager", "--site", "site-a"])

    assert result.exit_code == 0, result.output
    user = _user(db, "site.manager")
    assert user is not None and user.scope_all is False
    view = identity_service.get_user(db, user_id=user.id or 0)
    assert (view.roles, view.site_ids) == (frozenset({"sales_manager"}), frozenset({"site-a"}))


def test_an_existing_name_is_refused(run: CliRunner, db: Session) -> None:
    first = run.invoke(admin_cli, ["create", "--username", "dup.admin", "--password-stdin"],
                       input=STRONG + "\n")
    assert first.exit_code == 0, first.output

    second = run.invoke(admin_cli, ["create", "--username", "DUP.admin"])

    assert second.exit_code == 1
    assert "用户名“dup.admin”已存在" in second.output
    db.rollback()
    assert len(db.exec(select(User)).all()) == 1


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--password-stdin"], "short\n", "密码不符合安全要求"),
    (["--password-stdin"], "\n", "标准输入中没有密码"),
    (["--role", "emperor"], None, "角色不存在：emperor"),
    # An administrator unmasking personal data is the security administrator's grant.
    (["--role", "sys_admin", "--role", "hq_manager"], None, "除非安全管理员明确授权"),
])
def test_bad_input_creates_nothing(
    run: CliRunner, db: Session, args: list[str], stdin: str | None, message: str
) -> None:
    result = run.invoke(admin_cli, ["create", "--username", "bad.admin", *args], input=stdin)

    assert result.exit_code == 1
    assert message in result.output
    assert _user(db, "bad.admin") is None
