"""Issue #24: production serving — compression of JSON answers and the connection budget
of the workers against PostgreSQL's max_connections."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from cloud.serving import connection_budget, connections_per_worker
from cloud.settings import CloudSettings

OPENAPI = "/api/v1/openapi.json"


def test_large_json_is_compressed_brotli_first(client: TestClient) -> None:
    plain = client.get(OPENAPI, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip")):
        packed = client.get(OPENAPI, headers={"Accept-Encoding": accept})
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
