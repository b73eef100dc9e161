"""Schemathesis against both published OpenAPI documents, the cloud's on the real
PostgreSQL and Redis, the edge's on its SQLite store, each call made with a real token
of a role the route admits: whatever the generated input, no answer is a 5xx."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode
from sqlmodel import Session

from cloud.identity.deps import PERMISSIONS_MARK
from cloud.identity.permissions import ROLE_PERMISSIONS
from cloud.main import create_app as create_cloud
from cloud.settings import CloudSettings
from edge_agent.main import create_app as create_edge
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.cloud import CloudClient
from edge_agent.staff_auth.deps import get_cloud
from shared import edge_token
from shared.timeutil import utcnow
from tests.cloud import make_user, signed_in
from tests.cloud.sales_world import build_world
from tests.cloud.test_route_permissions import endpoints
from tests.conftest import signin_settings
from tests.edge.helpers import KIOSK_TOKEN, make_settings
from tests.edge.seed import consultant, customer, project, seed
from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.wechat import FakeWeChat

EXAMPLES = hypothesis_settings(
    max_examples=15, deadline=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)
# The OpenAPI documents are operators' pages in production mode (shared.browser).
OPS_TOKEN = "ops-token-for-the-fuzz-run"
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}
# Roles in the order they are tried for a route: the first holding every permission the
# route declares is the one the calls are made as.
ACTING_ROLES = ("hq_manager", "sales_manager", "consultant", "receptionist", "sys_admin",
                "security_admin", "audit_admin")


def _declared(dependant: Any) -> frozenset[str]:
    found: set[str] = set(getattr(dependant.call, PERMISSIONS_MARK, ()))
    for sub in dependant.dependencies:
        found |= _declared(sub)
    return frozenset(found)


def _role_for(app: FastAPI) -> dict[tuple[str, str], str]:
    chosen: dict[tuple[str, str], str] = {}
    for ep in endpoints(app):
        if ep.dependant is None:
            continue
        needed = _declared(ep.dependant)
        for role in ACTING_ROLES:
            if needed <= {p.value for p in ROLE_PERMISSIONS[role]}:
                chosen[(ep.method, ep.path)] = role
                break
    return chosen


class CloudUnderTest:
    def __init__(self, settings: CloudSettings, db: Session, served: CloudSettings) -> None:
        # Generated logins all come from one address: only that limit is lifted.
        self.app = create_cloud(served.model_copy(update={
            "login_ip_limit": 100_000, "ops_token": SecretStr(OPS_TOKEN)}))
        build_world(db, settings)
        for role in ACTING_ROLES:
            make_user(db, f"fuzz.{role}", roles=[role], site_ids=["site-a"])
        self.roles = _role_for(self.app)
        with TestClient(self.app) as client:
            self.tokens = {role: signed_in(client, f"fuzz.{role}")["Authorization"]
                           for role in ACTING_ROLES}

    def headers(self, case: Any) -> dict[str, str]:
        role = self.roles.get((case.method.upper(), case.path))
        return {"Authorization": self.tokens[role]} if role else {}


@pytest.fixture
def cloud(settings: CloudSettings, db: Session, fake_wechat: tuple[FakeWeChat, str],
          fake_sms: tuple[FakeAliyunSms, str]) -> Iterator[CloudUnderTest]:
    # WeChat and SMS as the local fakes: unconfigured, they answer 503 by design.
    served = signin_settings(settings, fake_wechat[1], fake_sms[1])
    under_test = CloudUnderTest(settings, db, served)
    yield under_test
    # Schemathesis calls the app without its lifespan, which would close the pool.
    under_test.app.state.engine.dispose()


def test_the_cloud_never_answers_5xx(cloud: CloudUnderTest) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", cloud.app, headers=OPS)
    assert _server_errors(schema, cloud.headers) == []


class EdgeUnderTest:
    def __init__(self, settings: EdgeSettings, cloud: CloudUnderTest) -> None:
        seed(settings, [
            project(1, 1, "云栖府"),
            consultant(2, 7, "王顾问"),
            customer(3, settings, 1, "13900001111", visit_count=1, owner_id=7,
                     owner_name="王顾问", last_visit_at=utcnow()),
        ])
        self.app = create_edge(settings.model_copy(update={
            "cloud_url": "http://cloud", "ops_token": SecretStr(OPS_TOKEN)}), sync=False)
        # Staff logins go to the real cloud app, in process.
        transport = httpx.ASGITransport(app=cloud.app)
        self.app.dependency_overrides[get_cloud] = lambda: CloudClient(
            "http://cloud", timeout=5, transport=transport)
        self.staff, _ = edge_token.issue(settings.site_key_bytes, user_id=7, name="王顾问",
                                         site_id=settings.site_id,
                                         roles=frozenset({"consultant"}), now=utcnow())

    def headers(self, case: Any) -> dict[str, str]:
        token = KIOSK_TOKEN if case.path.startswith("/api/v1/kiosk") else self.staff
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def edge(tmp_path: Path, cloud: CloudUnderTest) -> Iterator[EdgeUnderTest]:
    yield EdgeUnderTest(make_settings(tmp_path), cloud)


def test_the_edge_never_answers_5xx(edge: EdgeUnderTest) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", edge.app, headers=OPS)
    assert _server_errors(schema, edge.headers) == []


def _server_errors(schema: Any, headers: Callable[[Any], dict[str, str]],
                   minimum: int = 8) -> list[str]:
    """Every operation, with valid and with invalid inputs; the 5xx answers found."""
    found: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= minimum
    for operation, mode in itertools.product(
        operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ):

        @given(case=operation.as_strategy(generation_mode=mode))
        @EXAMPLES
        def call(case: Any) -> None:
            try:
                response = case.call(headers=headers(case))
            except Exception as exc:  # the in-process client re-raises what answered 500
                found.append(f"{case.as_curl_command()} -> 500 {exc!r}")
                return
            if response.status_code >= 500:
                found.append(f"{case.as_curl_command()} -> {response.status_code} "
                             f"{response.text[:200]}")

        try:
            call()
        except Unsatisfiable:
            # Nothing to make invalid: the operation takes no input.
            assert mode is GenerationMode.NEGATIVE
    return found


def test_the_fuzzing_finds_a_server_error() -> None:
    """Not blind: a route that fails on some valid input is reported."""
    app = FastAPI()

    @app.get("/api/v1/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"inverse": 1000 // (item_id % 7)}  # ZeroDivisionError → 500

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = _server_errors(schema, lambda case: {}, minimum=1)
    assert found and all("-> 500" in f for f in found)
