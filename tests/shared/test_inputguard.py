"""Inputs that break things: control characters, bytes that are not UTF-8, oversized
bodies, integers past what the databases hold — refused up front on both backends,
with problem+json, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cloud.main import create_app as create_cloud
from edge_agent.main import create_app as create_edge
from shared.inputguard import InputGuardMiddleware
from shared.problem import install_problem_handlers
from shared.static import mount_spa
from tests.conftest import make_settings
from tests.consent import consent_body
from tests.edge.helpers import KIOSK_TOKEN
from tests.edge.helpers import make_settings as make_edge_settings

KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}", "Idempotency-Key": "k" * 32}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_cloud(make_settings(f"sqlite:///{tmp_path / 'cloud.db'}")),
                    raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_edge(make_edge_settings(tmp_path), sync=False),
                    raise_server_exceptions=False) as client:
        yield client


def _code(response: Any) -> tuple[int, str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code, response.json()["code"]


@pytest.mark.parametrize("text", ["a\u0000b", "a\u0007b", "a\u001bb", "a\u007fb", "a\bb"])
def test_control_characters_in_a_json_body_are_refused(
    cloud: TestClient, edge: TestClient, text: str
) -> None:
    login = cloud.post("/api/v1/auth/login", json={"username": text, "password": "x"})
    visit = edge.post("/api/v1/kiosk/visits", headers=KIOSK,
                      json={"phone": "13800138000", "party_size": 1, "name": text,
                            "consent": consent_body()})

    assert _code(login) == (422, "control_characters")
    assert _code(visit) == (422, "control_characters")
    assert "控制字符" in login.json()["detail"]


def test_line_breaks_and_an_escaped_backslash_are_text(edge: TestClient) -> None:
    # "\\u0000" in JSON is a backslash followed by the letters u0000: harmless text.
    for intent in ("三房\n朝南\t预算\r500万", "C:\\u0000", "\\\\"):
        visit = edge.post("/api/v1/kiosk/visits",
                          headers={**KIOSK, "Idempotency-Key": f"key-{len(intent)}" + "x" * 30},
                          json={"phone": "13800138000", "party_size": 1, "intent": intent,
                                "consent": consent_body()})
        assert visit.status_code != 422 or visit.json()["code"] != "control_characters", intent


@pytest.mark.parametrize("query", ["q=%00", "q=a%0Ab", "q=%ff", "q=%C3"])
def test_a_query_with_a_control_character_or_broken_utf8_is_refused(
    cloud: TestClient, edge: TestClient, query: str
) -> None:
    assert _code(cloud.get(f"/api/v1/users?{query}")) == (422, "control_characters")
    assert _code(edge.get(f"/api/v1/kiosk/customers/lookup?phone=1&{query}")) == (
        422, "control_characters")


def test_a_body_over_the_limit_is_refused_on_the_cloud_too(cloud: TestClient) -> None:
    response = cloud.post("/api/v1/auth/login", content=b"{" + b" " * 70_000 + b"}",
                          headers={"content-type": "application/json"})

    assert _code(response) == (413, "payload_too_large")


def _spa(tmp_path: Path) -> FastAPI:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    (dist / "assets" / "app.js").write_text("1")
    app = FastAPI()
    install_problem_handlers(app)
    assert mount_spa(app, "/console", dist)
    app.add_middleware(InputGuardMiddleware, max_body_bytes=1024)
    return app


@pytest.mark.parametrize("path", ["/console/%00", "/console/assets/app.js%00.map",
                                  "/console/%ff", "/console/%C3%28", "/api/v1/users/%00"])
def test_a_nul_or_invalid_byte_in_a_path_is_not_found(tmp_path: Path, path: str) -> None:
    with TestClient(_spa(tmp_path), raise_server_exceptions=False) as client:
        assert client.get("/console/assets/app.js").status_code == 200
        assert _code(client.get(path)) == (404, "not_found")


@pytest.mark.parametrize("url", [
    "/api/v1/users/2147483648", "/api/v1/users/99999999999999999999999",
    "/api/v1/users?cursor=2147483648", "/api/v1/customers/2147483648",
    "/api/v1/visits?project_id=9223372036854775808", "/api/v1/visits?page=10001",
    "/api/v1/audit/logs?cursor=9223372036854775808",
    "/api/v1/follow-ups?customer_id=2147483648",
])
def test_integers_past_the_database_are_a_clear_422(
    client: TestClient, settings: Any, db: Any, url: str
) -> None:
    """On PostgreSQL, where an out-of-range integer parameter is a driver error (a 500)."""
    from tests.cloud import make_user, signed_in

    roles = {"/api/v1/users": "sys_admin", "/api/v1/audit": "audit_admin"}
    role = next((r for prefix, r in roles.items() if url.startswith(prefix)), "hq_manager")
    make_user(db, "bounds.user", roles=[role], scope_all=True)
    response = client.get(url, headers=signed_in(client, "bounds.user"))

    assert _code(response) == (422, "validation_failed")
