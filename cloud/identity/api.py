"""Login, sessions, the signed-in user, and user / role administration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status
from sqlmodel import Session

from cloud.db import SessionDep
from cloud.identity import edge_revocation, edge_tokens, refresh_cookie
from cloud.identity import service as identity_service
from cloud.identity.deps import (
    CurrentPrincipal,
    Principal,
    SelfServicePrincipal,
    SettingsDep,
    authorize,
    client_ip,
)
from cloud.identity.errors import RecordedRejection
from cloud.identity.permissions import Perm
from cloud.identity.schemas import (
    EdgeTokenOut,
    EdgeTokensOut,
    LoginIn,
    MeOut,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetOut,
    RoleOut,
    RolesIn,
    ScopesIn,
    TokenOut,
    UserCreatedOut,
    UserCreateIn,
    UserOut,
    UserPageOut,
    UserUpdateIn,
)
from cloud.identity.security import generate_password
from cloud.identity.throttle import LoginThrottle
from cloud.routing import DomainRouter
from shared.activity import is_background
from shared.bounds import DB_INT_MAX, IdPath
from shared.errors import Forbidden

router = DomainRouter(tags=["identity 身份与权限"])

UserReader = Annotated[Principal, Depends(authorize(Perm.USER_READ))]
UserManager = Annotated[Principal, Depends(authorize(Perm.USER_MANAGE))]
RoleAssigner = Annotated[Principal, Depends(authorize(Perm.ROLE_ASSIGN))]
RoleReader = Annotated[Principal, Depends(authorize(Perm.ROLE_READ))]


def _account_keeper(principal: CurrentPrincipal) -> Principal:
    """Either keeper of accounts; which accounts each may touch is cloud.identity.duties'."""
    if not (principal.can(Perm.USER_MANAGE) or principal.can(Perm.ADMIN_ACCOUNT_MANAGE)):
        raise Forbidden(extra={"missing_permissions": [Perm.USER_MANAGE.value]})
    return principal


AccountKeeper = Annotated[Principal, Depends(_account_keeper)]


def _login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


ThrottleDep = Annotated[LoginThrottle, Depends(_login_throttle)]


@contextmanager
def keep_rejection_record(session: Session) -> Iterator[None]:
    """The request's session rolls back on any error; a rejected login must still leave
    its failure counter and audit row behind (等保: every failure audited)."""
    try:
        yield
    except RecordedRejection:
        session.commit()
        raise


@router.post("/auth/login", response_model=TokenOut,
             summary="登录（refresh 令牌以 HttpOnly Cookie 下发，仅刷新接口可见）")
def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep,
    settings: SettingsDep, throttle: ThrottleDep,
) -> TokenOut:
    with keep_rejection_record(session):
        issued = identity_service.login(
            session, settings=settings, throttle=throttle, username=body.username,
            password=body.password,
            ip=client_ip(request), user_agent=request.headers.get("user-agent", ""),
        )
    refresh_cookie.attach(response, request, settings, issued.refresh_token)
    return TokenOut.of(issued)


@router.post("/auth/refresh", response_model=TokenOut,
             summary="刷新令牌（凭 Cookie；轮换 refresh 令牌）")
def refresh(
    request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> TokenOut:
    with keep_rejection_record(session):
        issued = identity_service.refresh(
            session, settings=settings, refresh_token=refresh_cookie.read(request),
            ip=client_ip(request), background=is_background(request),
        )
    refresh_cookie.attach(response, request, settings, issued.refresh_token)
    return TokenOut.of(issued)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录")
def logout(
    principal: SelfServicePrincipal, request: Request, response: Response, session: SessionDep,
    settings: SettingsDep,
) -> None:
    identity_service.logout(session, principal=principal)
    edge_revocation.revoke_session(session, principal=principal, reason="logout")
    refresh_cookie.clear(response, request, settings)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, summary="修改密码")
def change_password(
    body: PasswordChangeIn, principal: SelfServicePrincipal, session: SessionDep,
    settings: SettingsDep, throttle: ThrottleDep,
) -> None:
    with keep_rejection_record(session):
        identity_service.change_password(
            session, settings=settings, throttle=throttle, principal=principal,
            old_password=body.old_password, new_password=body.new_password,
        )
    edge_revocation.revoke_user(session, user_id=principal.user_id, reason="password_changed")


@router.post("/auth/edge-token", response_model=EdgeTokensOut,
             summary="案场设备令牌：顾问手机经案场设备（局域网、可离线）访问时使用")
def edge_token(
    principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
    site_id: Annotated[str | None, Query(max_length=32, description="只要这一个案场的")] = None,
) -> EdgeTokensOut:
    issued = edge_tokens.issue(session, settings=settings, principal=principal, site_id=site_id)
    return EdgeTokensOut(tokens=[
        EdgeTokenOut(site_id=t.site_id, token=t.token, expires_at=t.expires_at) for t in issued
    ])


@router.get("/auth/me", response_model=MeOut, summary="当前用户、角色、权限码与数据范围")
async def me(principal: SelfServicePrincipal) -> MeOut:
    return MeOut.of(principal, must_change_password=principal.password_change_due)


@router.get("/users", response_model=UserPageOut, summary="用户列表")
def list_users(
    _: UserReader,
    session: SessionDep,
    cursor: Annotated[int | None, Query(ge=0, le=DB_INT_MAX,
                                        description="上一页返回的 next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    q: Annotated[str | None, Query(max_length=64, description="按用户名或姓名搜索")] = None,
    is_active: bool | None = None,
) -> UserPageOut:
    page = identity_service.list_users(
        session, cursor=cursor, limit=limit, query=q, is_active=is_active
    )
    return UserPageOut.of(page)


@router.post("/users", response_model=UserCreatedOut, status_code=status.HTTP_201_CREATED,
             summary="创建用户（首次登录须修改密码）")
def create_user(body: UserCreateIn, principal: UserManager, session: SessionDep) -> UserCreatedOut:
    if (body.roles or body.site_ids or body.scope_all) and not principal.can(Perm.ROLE_ASSIGN):
        # Separation of duties: granting roles and data scope is the security admin's job.
        raise Forbidden("分配角色或数据范围需要安全管理员权限",
                        extra={"missing_permissions": [Perm.ROLE_ASSIGN.value]})
    password = body.password or generate_password()
    user = identity_service.create_user(
        session, username=body.username, password=password, display_name=body.display_name,
        roles=body.roles, site_ids=body.site_ids, scope_all=body.scope_all,
        must_change_password=True, principal=principal,
    )
    assert user.id is not None
    view = identity_service.get_user(session, user_id=user.id)
    return UserCreatedOut(user=UserOut.of(view),
                          initial_password=None if body.password else password)


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情")
def get_user(user_id: IdPath, _: UserReader, session: SessionDep) -> UserOut:
    return UserOut.of(identity_service.get_user(session, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserOut, summary="修改姓名或启用 / 停用")
def update_user(
    user_id: IdPath, body: UserUpdateIn, principal: AccountKeeper, session: SessionDep
) -> UserOut:
    view = identity_service.update_user(
        session, principal=principal, user_id=user_id,
        display_name=body.display_name, is_active=body.is_active,
    )
    if body.is_active is False:
        edge_revocation.revoke_user(session, user_id=user_id, reason="disabled")
    return UserOut.of(view)


@router.post("/users/{user_id}/password-reset", response_model=PasswordResetOut,
             summary="重置密码（用户下次登录须修改）")
def reset_password(
    user_id: IdPath, body: PasswordResetIn, principal: UserManager, session: SessionDep,
    settings: SettingsDep, throttle: ThrottleDep,
) -> PasswordResetOut:
    password = identity_service.reset_password(
        session, settings=settings, throttle=throttle, principal=principal, user_id=user_id,
        password=body.password,
    )
    edge_revocation.revoke_user(session, user_id=user_id, reason="password_reset")
    return PasswordResetOut(initial_password=None if body.password else password)


@router.put("/users/{user_id}/roles", response_model=UserOut, summary="设置用户角色")
def set_roles(
    user_id: IdPath, body: RolesIn, principal: RoleAssigner, session: SessionDep
) -> UserOut:
    view = identity_service.set_roles(
        session, principal=principal, user_id=user_id, roles=body.roles,
        personal_data_grant=body.personal_data_grant,
    )
    return UserOut.of(view)


@router.put("/users/{user_id}/scopes", response_model=UserOut, summary="设置数据范围（案场）")
def set_scopes(
    user_id: IdPath, body: ScopesIn, principal: RoleAssigner, session: SessionDep
) -> UserOut:
    view = identity_service.set_scopes(
        session, principal=principal, user_id=user_id, site_ids=body.site_ids,
        scope_all=body.scope_all,
    )
    return UserOut.of(view)


@router.get("/roles", response_model=list[RoleOut], summary="内置角色及其权限")
def list_roles(_: RoleReader) -> list[RoleOut]:
    return RoleOut.all()
