"""The response model rule: every datetime an API of either app answers with is declared
as `UtcDateTime`, so it leaves as zone-qualified UTC ("…Z") on every database backend.

Walked from the route tables, so a new route with a bare `datetime` fails here.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from cloud.main import create_app as create_cloud
from edge_agent.main import create_app as create_edge
from shared.timeutil import SHANGHAI, UTC_RULE, UtcDateTime
from tests.conftest import make_settings
from tests.edge.helpers import make_settings as make_edge_settings


def _response_models(app: FastAPI) -> Iterator[tuple[str, type[BaseModel]]]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        declared = [route.response_model]
        declared += [r.get("model") for r in route.responses.values() if isinstance(r, dict)]
        for annotation in declared:
            for model in _models_in(annotation):
                yield f"{sorted(context.methods or ())} {context.path}", model


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _is_datetime(annotation: object) -> bool:
    if annotation is datetime:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, dict) or origin is not None:
        return any(_is_datetime(a) for a in typing.get_args(annotation))
    return False


def _bare_datetimes(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        if _is_datetime(field.annotation) and not _carries_rule(field):
            yield f"{model.__name__}.{name}"
        for nested in _models_in(field.annotation):
            yield from _bare_datetimes(nested, seen)


def _carries_rule(field: FieldInfo) -> bool:
    if UTC_RULE in field.metadata:
        return True
    # `UtcDateTime | None` keeps the rule inside the union's member.
    return any(UTC_RULE in getattr(a, "__metadata__", ()) for a in
               typing.get_args(field.annotation))


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> list[FastAPI]:
    tmp = tmp_path_factory.mktemp("apps")
    cloud = create_cloud(make_settings(f"sqlite:///{tmp / 'cloud.db'}"))
    edge = create_edge(make_edge_settings(Path(tmp)), sync=False)
    return [cloud, edge]


def test_every_datetime_in_every_response_model_is_utc_qualified(apps: list[FastAPI]) -> None:
    checked: set[type[BaseModel]] = set()
    offenders: list[str] = []
    for app in apps:
        for where, model in _response_models(app):
            offenders += [f"{where}: {f}" for f in _bare_datetimes(model, checked)]
    assert checked, "no response models found: the walk is broken"
    assert offenders == []


def test_a_naive_value_leaves_as_utc_with_its_zone() -> None:
    class Out(BaseModel):
        at: UtcDateTime
        maybe: UtcDateTime | None = None

    naive = datetime(2026, 11, 27, 16, 0, 1)  # how SQLite hands a UTC time back
    shanghai = datetime(2026, 11, 28, 0, 0, 1, tzinfo=SHANGHAI)
    body = Out(at=naive, maybe=shanghai).model_dump(mode="json")
    assert body == {"at": "2026-11-27T16:00:01Z", "maybe": "2026-11-27T16:00:01Z"}
    assert Out(at=naive).at.tzinfo is UTC
