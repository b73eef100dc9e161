"""Deny by default: every route of the cloud app declares a permission through
cloud.identity.deps.authorize, except a short, explicit list of anonymous ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from cloud.identity.deps import PERMISSIONS_MARK
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import problem

ANONYMOUS_ROUTES = frozenset({
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    # Anonymous to the route table; in production shared.browser asks the ops token.
    ("GET", "/metrics"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    # Broker sign-in opens the session: an SMS code or WeChat proves who it is.
    ("POST", "/api/v1/channel/auth/sms/send"),
    ("POST", "/api/v1/channel/auth/sms/login"),
    ("GET", "/api/v1/channel/auth/wechat/authorize"),
    ("POST", "/api/v1/channel/auth/wechat/login"),
    ("POST", "/api/v1/channel/auth/miniprogram/login"),
    ("POST", "/api/v1/channel/auth/wechat/bind"),
    # The public page of a broker's share link (智能拓客): the signed token is the key;
    # rate-limited per source and visitor, bodies bounded.
    ("GET", "/api/v1/channel/public/shares/{token}"),
    ("POST", "/api/v1/channel/public/shares/{token}/events"),
    ("POST", "/api/v1/channel/public/shares/{token}/leads"),
    ("GET", "/api/v1/channel/public/shares/{token}/card.png"),
    # The console's static files (the app itself; every API call it makes is checked).
    ("GET", "/"),
    ("GET", "/console"),
    ("GET", "/console/{path:path}"),
    # The brokers' H5, likewise static (its API calls are checked).
    ("GET", "/h5"),
    ("GET", "/h5/{path:path}"),
    # The interactive API docs page (bundled Swagger UI; every call it makes is checked).
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/docs/init.js"),
})
# FastAPI's own documentation routes (plain Starlette routes, not API routes).
DOC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs-assets"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant | None  # None: not a FastAPI API route


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every (method, full path) the app serves, with included routers resolved: this
    FastAPI keeps included routers as lazy nodes, so app.routes alone is not the list."""
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        if isinstance(context.original_route, APIRoute):
            for method in sorted(set(context.methods or ()) - {"HEAD", "OPTIONS"}):
                yield Endpoint(method, path, context.dependant)
        else:
            yield Endpoint("*", path, None)


def _declares_permission(dependant: Dependant) -> bool:
    if hasattr(dependant.call, PERMISSIONS_MARK):
        return True
    return any(_declares_permission(sub) for sub in dependant.dependencies)


def unprotected_routes(app: FastAPI) -> list[str]:
    """Every route that neither declares a permission nor is allowed to be anonymous."""
    problems: list[str] = []
    for ep in endpoints(app):
        if ep.dependant is None:
            if ep.path not in DOC_PATHS:
                problems.append(f"{ep.path}: not an API route and not documentation")
            continue
        anonymous = (ep.method, ep.path) in ANONYMOUS_ROUTES
        declared = _declares_permission(ep.dependant)
        if not anonymous and not declared:
            problems.append(f"{ep.method} {ep.path}: no authorize(...) dependency")
        if anonymous and declared:
            problems.append(f"{ep.method} {ep.path}: listed anonymous but guarded")
    return problems


def _protected(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (ep.method, ep.path)
        for ep in endpoints(app)
        if ep.dependant is not None and (ep.method, ep.path) not in ANONYMOUS_ROUTES
    ]


def test_every_route_declares_a_permission(settings: CloudSettings) -> None:
    app = create_app(settings)

    assert unprotected_routes(app) == []
    protected = _protected(app)
    # The walk saw the real application, not an empty one.
    assert ("GET", "/api/v1/users") in protected
    assert ("GET", "/api/v1/audit/logs") in protected
    assert len(protected) >= 15


def test_the_walk_notices_a_route_without_permission(settings: CloudSettings) -> None:
    app = create_app(settings)

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"customers": "all of them"}

    assert unprotected_routes(app) == ["GET /api/v1/forgotten: no authorize(...) dependency"]


def test_every_guarded_route_refuses_an_anonymous_caller(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    answers: dict[str, tuple[int, str]] = {}
    for method, path in _protected(app):
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = client.request(method, url)
        answers[f"{method} {path}"] = (response.status_code, problem(response)["code"])

    assert answers
    assert {k: v for k, v in answers.items() if v != (401, "unauthorized")} == {}


def test_the_published_api_declares_bearer_auth(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    spec = app.openapi()  # the published document; its URL needs the ops token in production
    schemes = spec["components"]["securitySchemes"]
    [(name, scheme)] = schemes.items()
    assert scheme["scheme"].lower() == "bearer"
    assert spec["paths"]["/api/v1/users"]["get"]["security"] == [{name: []}]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
