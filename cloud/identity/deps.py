"""The authorization contract every domain's routes use.

    principal: Annotated[Principal, Depends(authorize(Perm.VISIT_READ))]

Every request checks the login session and the user (cloud.identity.access): from a
per-process principal cache that every process empties the moment a change commits, else
with one query; tokens of ended sessions and disabled users are refused. Each dependency
made here carries PERMISSIONS_MARK, which lets the route walk in the tests prove that no
route went without a declared permission.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import cache, partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import Session

from cloud.audit.denials import SENSITIVE_PERMISSIONS, record_denial, record_outside
from cloud.db import SessionDep
from cloud.identity import access
from cloud.identity.errors import NetworkNotAllowed, NotAuthenticated, PasswordChangeRequired
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal
from cloud.settings import CloudSettings
from shared.activity import is_background
from shared.errors import Forbidden

__all__ = [
    "PERMISSIONS_MARK",
    "CurrentPrincipal",
    "Principal",
    "SelfServicePrincipal",
    "SettingsDep",
    "authorize",
    "client_ip",
    "publish_bearer_auth",
    "self_service",
]

PERMISSIONS_MARK = "__anchang_permissions__"

BEARER_SCHEME = "HTTPBearer"


async def get_settings(request: Request) -> CloudSettings:
    # async: no I/O here, and a sync dependency would cost a thread-pool hop per request.
    settings: CloudSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[CloudSettings, Depends(get_settings)]


def client_ip(request: Request) -> str | None:
    """The peer address. Behind nginx, uvicorn's --proxy-headers with
    --forwarded-allow-ips set to the proxy puts the real client here; X-Forwarded-For is
    not read directly because anyone can send it and the audit log would believe it."""
    return request.client.host if request.client else None


def authorize(*perms: Perm) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and requires every permission in `perms`.

    With no permission it admits any signed-in user whose password is not due for change.
    401 `unauthorized` without a valid session, 403 `forbidden` without a permission,
    403 `password_change_required` while the password must be changed.
    """
    return _dependency(frozenset(perms), allow_pending_password=False)


def self_service() -> Callable[..., Awaitable[Principal]]:
    """Signed in, nothing more: the routes a user needs while a password change is due
    (me, change password, logout)."""
    return _dependency(frozenset(), allow_pending_password=True)


@cache
def _dependency(
    perms: frozenset[Perm], *, allow_pending_password: bool
) -> Callable[..., Awaitable[Principal]]:
    # Cached so equal requirements are one callable: FastAPI then resolves it once per
    # request even when a router and its route both declare it.
    async def dependency(
        request: Request,
        session: SessionDep,
    ) -> Principal:
        token = bearer_token(request)
        if token is None:
            raise NotAuthenticated()
        # Called, not a SettingsDep: each sub-dependency costs FastAPI's resolution on
        # every request (issue #24).
        settings = await get_settings(request)
        cache = request.app.state.principal_cache
        ip = client_ip(request)
        try:
            # A cached login is checked on the event loop; only a miss costs a thread hop.
            principal = access.from_cache(settings=settings, cache=cache,
                                          token=token, ip=ip)
            if principal is None:
                principal = await anyio.to_thread.run_sync(partial(
                    access.authenticate, session, settings=settings, cache=cache,
                    token=token, ip=ip, background=is_background(request)))
        except NetworkNotAllowed as refused:
            await _audit_outside(request, session, refused, ip)
            raise
        if principal.password_change_due and not allow_pending_password:
            raise PasswordChangeRequired()
        missing = sorted(p.value for p in perms if not principal.can(p))
        if missing:
            if perms & SENSITIVE_PERMISSIONS:
                await _audit_denial(request, session, principal, missing)
            raise Forbidden(extra={"missing_permissions": missing})
        return principal

    setattr(dependency, PERMISSIONS_MARK, perms)
    dependency.__name__ = "authorize_" + ("_".join(sorted(perms)) or "signed_in")
    return dependency


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>` (the scheme in any case), else None.

    Read here rather than through FastAPI's HTTPBearer dependency: each sub-dependency
    costs FastAPI's resolution on every request (issue #24); publish_bearer_auth declares
    the scheme in the published API document instead."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _signs_in(dependant: Dependant) -> bool:
    return hasattr(dependant.call, PERMISSIONS_MARK) or any(
        _signs_in(d) for d in dependant.dependencies)


def publish_bearer_auth(app: FastAPI) -> None:
    """Declare bearer authentication in `app`'s OpenAPI document on every operation whose
    route depends on authorize() or self_service() (call after the routers are
    included), as FastAPI does for a security dependency."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        spec.setdefault("components", {})["securitySchemes"] = {BEARER_SCHEME: {
            "type": "http", "scheme": "bearer", "description": "登录接口返回的 access_token"}}
        # Included routers are lazy nodes in this FastAPI: app.routes alone is not the list.
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, APIRoute) and _signs_in(route.dependant):
                operations = spec["paths"].get(route.path_format, {})
                for method in route.methods or ():
                    if method.lower() in operations:
                        operations[method.lower()]["security"] = [{BEARER_SCHEME: []}]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


async def _audit_denial(request: Request, session: Session, principal: Principal,
                        missing: list[str]) -> None:
    # Limited per route template, so walking ids (/customers/1…n/unmask) is one key; the
    # row names the concrete path that was tried.
    template = getattr(request.scope.get("route"), "path", request.url.path)
    suppressed = request.app.state.denial_limiter.admit(
        (principal.user_id, f"{request.method} {template}"), time.monotonic())
    if suppressed is not None:
        await anyio.to_thread.run_sync(partial(
            record_denial, session, principal=principal,
            route=f"{request.method} {request.url.path}"[:64], missing=missing,
            suppressed=suppressed))


async def _audit_outside(request: Request, session: Session, refused: NetworkNotAllowed,
                         ip: str | None) -> None:
    """An administrator's token used outside the console's networks (taken out of the
    office, or stolen): recorded like a denial, one row per user and minute."""
    if refused.user_id is None:
        return
    suppressed = request.app.state.denial_limiter.admit(
        (refused.user_id, "network"), time.monotonic())
    if suppressed is not None:
        await anyio.to_thread.run_sync(partial(
            record_outside, session, user_id=refused.user_id, username=refused.username,
            ip=ip, route=f"{request.method} {request.url.path}"[:64], suppressed=suppressed))


CurrentPrincipal = Annotated[Principal, Depends(authorize())]
SelfServicePrincipal = Annotated[Principal, Depends(self_service())]
