"""Issue #24: production serving — compression of JSON answers, the connection budget
of the workers against PostgreSQL's max_connections, the start-up objects frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fastapi.testclient import TestClient

from cloud.main import create_app
from cloud.serving import connection_budget, connections_per_worker
from cloud.settings import CloudSettings
from tests.conftest import cloud_env, make_settings

OPENAPI = "/api/v1/openapi.json"  # a large JSON answer (an operator's: the ops token)
OPS_TOKEN = "ops-token-for-the-compression-test"


def test_large_json_is_compressed_brotli_first(settings: CloudSettings) -> None:
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    with TestClient(create_app(make_settings(settings.database_url, ops_token=OPS_TOKEN))
                    ) as client:
        plain = client.get(OPENAPI, headers={**ops, "Accept-Encoding": "identity"})
        packed_by = {accept: client.get(OPENAPI, headers={**ops, "Accept-Encoding": accept})
                     for accept in ("gzip, deflate, br", "gzip")}
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip")):
        packed = packed_by[accept]
        assert packed.headers["content-encoding"] == encoding
        assert packed.headers["vary"] == "Accept-Encoding"
        # httpx undoes the encoding; the size on the wire is what the header says.
        assert int(packed.headers["content-length"]) < len(plain.content) / 4
        assert json.loads(packed.content) == plain.json()


def test_small_answers_are_sent_as_they_are(client: TestClient) -> None:
    response = client.get("/healthz", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers


def test_the_workers_connections_are_checked_against_max_connections(
        settings: CloudSettings) -> None:
    per_worker = connections_per_worker(settings)
    assert per_worker == settings.db_pool_size + 5
    budget = connection_budget(settings, 2)
    assert budget is not None and budget.fits and budget.needed == 2 * per_worker
    too_many = connection_budget(settings, budget.available // per_worker + 1)
    assert too_many is not None and not too_many.fits


def test_the_served_app_keeps_its_start_up_objects_out_of_the_collector(
    settings: CloudSettings,
) -> None:
    """What uvicorn's workers import (cloud.asgi) freezes the app it built: a full
    collection then walks none of it (about half a second per collection otherwise)."""
    probe = ("import gc, cloud.asgi; "
             "print('frozen', gc.get_freeze_count(), len(gc.get_objects()))")
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **cloud_env(settings)},
                         capture_output=True, text=True, timeout=120, check=True).stdout
    line = next(n for n in out.splitlines() if n.startswith("frozen "))  # logs go there too
    frozen, tracked = (int(n) for n in line.split()[1:])
    assert frozen > 100_000
    assert tracked < frozen / 10
