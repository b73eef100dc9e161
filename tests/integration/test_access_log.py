"""The served processes' access lines (`anchang serve`, `python -m edge_agent`): one JSON
line per request with the route template, never the raw path or query string — uvicorn's
own line wrote a kiosk's `?phone=` look-up and a console search's number in full."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloud.settings import CloudSettings
from tests.bench.api_load import api_server
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration

PHONE = "13912345678"


def _requests(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines()
             if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def test_the_edge_logs_the_lookup_route_not_the_number(
        tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]) -> None:
    edge = EdgeProcess(tmp_path / "edge", sites[0], broker.port)
    edge.start()
    try:
        answer = httpx.get(f"{edge.url}/api/v1/kiosk/customers/lookup",
                           params={"phone": PHONE, "project_id": sites[0].project_id},
                           headers=edge._headers(), timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        edge.stop()
    text = edge.log.read_text()
    assert PHONE not in text and PHONE[3:7] not in text
    [line] = [r for r in _requests(edge.log) if r["route"] == "/api/v1/kiosk/customers/lookup"]
    assert line["method"] == "GET" and line["status"] == answer.status_code
    assert line["client"] == "127.0.0.1" and line["ms"] >= 0 and line["request_id"]


def test_the_cloud_logs_the_search_route_not_the_number(
        tmp_path: Path, settings: CloudSettings) -> None:
    api = api_server(settings, 1, tmp_path)
    api.start("/healthz")
    try:
        refused = httpx.get(f"{api.url}/api/v1/customers", params={"phone": PHONE},
                            timeout=10)
        assert refused.status_code == 401
        # A client's own request id is echoed, and logged masked like every logged value.
        chosen = httpx.get(f"{api.url}/healthz", headers={"X-Request-Id": PHONE}, timeout=10)
        assert chosen.headers["x-request-id"] == PHONE
        ours = {httpx.get(f"{api.url}/healthz", timeout=10).headers["x-request-id"]
                for _ in range(3)}
        unknown = httpx.get(f"{api.url}/api/v1/customers/123456789/no-such-page", timeout=10)
        assert unknown.status_code == 404
    finally:
        api.stop()
    log = tmp_path / "api.log"
    assert PHONE not in log.read_text() and "123456789" not in log.read_text()
    requests = _requests(log)
    lines = {(r["route"], r["status"]) for r in requests}
    assert {("/api/v1/customers", 401), ("unmatched", 404)} <= lines
    # The structured log's shape: service, level and time like every other line.
    assert all(r["service"] == "cloud" and r["level"] == "info" and r["timestamp"]
               for r in requests)
    assert "139****5678" in {r["request_id"] for r in requests}
    assert len(ours) == 3 and all(len(i) == 32 for i in ours)  # distinct, as long as before
    assert ours <= {r["request_id"] for r in requests}
