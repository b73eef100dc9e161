"""Issue #24: DomainRouter answers "not mine" from a request path's segments before
FastAPI tries its routes' patterns. The skip must never change which route answers."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute, _IncludedRouter, iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from cloud.main import create_app
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings


def _scope(path: str, method: str) -> Scope:
    return {"type": "http", "path": path, "root_path": "", "method": method,
            "headers": [], "query_string": b""}


def _first_full_match(routes: list[BaseRoute], scope: Scope) -> int | None:
    for index, route in enumerate(routes):
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return index
    return None


def test_every_api_router_is_a_domain_router(settings: CloudSettings) -> None:
    app = create_app(settings)
    included = [r.original_router for r in app.router.routes if isinstance(r, _IncludedRouter)]
    assert len(included) > 15
    # health answers /healthz and /readyz outside the API prefix, with no session.
    plain = [r for r in included if not isinstance(r, DomainRouter)]
    assert all(all(route.path in ("/healthz", "/readyz", "/metrics")  # type: ignore[attr-defined]
                   for route in r.routes) for r in plain), plain


def test_the_skip_never_changes_the_route_that_answers(
    settings: CloudSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every API route's path, with its parameters filled in, plus paths no route has:
    the first router to match is the same with the skip and without it."""
    app = create_app(settings)
    samples = [("/api/v1/nothing/here", "GET"), ("/api/v1/customers/1/nothing", "GET"),
               ("/healthz", "GET"), ("/console/", "GET")]
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            path = re.sub(r"\{[^}]+\}", "1", context.path_format or route.path)
            samples += [(path, method) for method in sorted(route.methods or ())]
    assert len(samples) > 150
    top = list(app.router.routes)
    with_skip = [_first_full_match(top, _scope(p, m)) for p, m in samples]
    monkeypatch.setattr(DomainRouter, "matches", APIRouter.matches)
    without = [_first_full_match(top, _scope(p, m)) for p, m in samples]
    assert with_skip == without
    assert None in with_skip  # the unknown paths matched nothing either way
