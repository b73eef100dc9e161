"""`anchang admin …`: accounts from the command line. There are no default accounts;
the first administrator is created here."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlmodel import Session, select

from cloud.db import make_engine
from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.identity.permissions import ADMIN_ROLES
from cloud.identity.records import normalise_username
from cloud.identity.security import generate_password
from cloud.identity.throttle import from_settings as login_throttle
from cloud.settings import CloudSettings
from shared.errors import AppError

app = typer.Typer(help="账号管理", no_args_is_help=True, add_completion=False)

# The first account runs the system and nothing else: no role that unmasks personal data
# (only the security administrator grants that to an administrator, in the console).
FIRST_ADMIN_ROLES = ("sys_admin",)
CLI_ACTOR = "cli"


@app.callback()
def main() -> None:
    """账号管理（首个管理员在此创建）。"""


@app.command()
def create(
    username: Annotated[str, typer.Option("--username", help="登录名")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="姓名")] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="角色代码，可重复；不填则为首个管理员的角色 "
                                    + "、".join(FIRST_ADMIN_ROLES) + "，可见全部案场"),
    ] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="可见案场，可重复")] = None,
    all_sites: Annotated[bool, typer.Option("--all-sites", help="可见全部案场")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码（第一行）")
    ] = False,
) -> None:
    """创建账号。未提供密码时生成强密码并只显示这一次，首次登录须修改。"""
    roles = list(role or FIRST_ADMIN_ROLES)
    sites = list(site or [])
    scope_all = all_sites or (not role and not sites)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            typer.echo("错误：标准输入中没有密码", err=True)
            raise typer.Exit(1)
    else:
        password = generate_password()
    # An administrator's password is always theirs to choose: whoever typed it here
    # must not be able to sign in as them later.
    must_change = not password_stdin or bool(set(roles) & ADMIN_ROLES)
    settings = CloudSettings()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = identity_service.create_user(
                session, username=username, password=password,
                display_name=display_name or username, roles=roles, site_ids=sites,
                scope_all=scope_all, must_change_password=must_change, actor=CLI_ACTOR,
            )
            session.commit()
    except AppError as exc:
        typer.echo(f"错误：{exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    scope = "全部案场" if scope_all else "、".join(sorted(sites)) or "无"
    typer.echo(f"已创建账号 {user.username}（id {user.id}），角色：{'、'.join(sorted(roles))}，"
               f"数据范围：{scope}")
    if not password_stdin:
        typer.echo(f"初始密码（只显示这一次，首次登录须修改）：{password}")
    elif must_change:
        typer.echo("管理员账号首次登录须修改密码")
    if not role:
        typer.echo("三员分立：请另建安全管理员与审计管理员账号，例如 "
                   "`anchang admin create --username security --role security_admin` 与 "
                   "`anchang admin create --username auditor --role audit_admin`")


@app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Option("--username", help="登录名")],
) -> None:
    """重置密码（含管理员账号；控制台不能重置管理员的密码）。新密码只显示这一次，首次登录须修改。"""
    settings = CloudSettings()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = session.exec(
                select(User).where(User.username == normalise_username(username))
            ).first()
            if user is None or user.id is None:
                typer.echo(f"错误：用户“{username}”不存在", err=True)
                raise typer.Exit(1)
            password = identity_service.reset_password(
                session, settings=settings, throttle=login_throttle(settings), principal=None,
                user_id=user.id, actor=CLI_ACTOR,
            )
            session.commit()
    except AppError as exc:
        typer.echo(f"错误：{exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"已重置 {user.username} 的密码，其全部登录会话已结束")
    typer.echo(f"新密码（只显示这一次，首次登录须修改）：{password}")
