"""Every integer a request can carry, on both published APIs, has a maximum within what
the database holds: a new parameter without one fails here before it can answer 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from cloud.main import create_app as create_cloud
from edge_agent.main import create_app as create_edge
from shared.bounds import DB_BIGINT_MAX
from tests.conftest import make_settings
from tests.edge.helpers import make_settings as make_edge_settings


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = spec["components"]["schemas"][name]
    return node


def _integers(spec: dict[str, Any], node: Any, where: str, seen: set[str]) -> Iterator[
        tuple[str, dict[str, Any]]]:
    if isinstance(node, dict) and "$ref" in node:
        if node["$ref"] in seen:
            return
        seen = seen | {node["$ref"]}
        node = _resolve(spec, node)
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integers(spec, value, f"{where}.{key}", seen)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _integers(spec, value, f"{where}[{i}]", seen)


def request_integers(app: FastAPI) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = app.openapi()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for param in operation.get("parameters", []):
                yield from _integers(spec, param["schema"], f"{method} {path} {param['name']}",
                                     set())
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                yield from _integers(spec, media["schema"], f"{method} {path} body", set())


@pytest.fixture(params=["cloud", "edge"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> FastAPI:
    if request.param == "cloud":
        return create_cloud(make_settings(f"sqlite:///{tmp_path / 'c.db'}"))
    return create_edge(make_edge_settings(tmp_path), sync=False)


def test_every_integer_input_is_bounded(app: FastAPI) -> None:
    found = list(request_integers(app))

    assert len(found) >= 3  # the walk reaches parameters and bodies
    unbounded = [where for where, schema in found
                 if schema.get("maximum", DB_BIGINT_MAX + 1) > DB_BIGINT_MAX]
    assert unbounded == []


def test_the_walk_notices_an_unbounded_integer(tmp_path: Path) -> None:
    app = create_cloud(make_settings(f"sqlite:///{tmp_path / 'c.db'}"))

    @app.get("/api/v1/new/{thing_id}")
    def new(thing_id: int) -> None:
        return None

    assert [w for w, s in request_integers(app) if "maximum" not in s] == [
        "get /api/v1/new/{thing_id} thing_id"]
