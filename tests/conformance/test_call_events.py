"""§4.2 `call.recorded` (ADR 0056): a call applies, the same call again is merged (no
rejection), and each refusal the text names consumes its seq — strictly typed payloads
(`invalid_payload`) and a project of another site (`project_not_in_site`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target
from tests.conformance.test_event_rejections import rejected_and_consumed

pytestmark = pytest.mark.integration


def call_recorded(project_id: int, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "call_id": wire.uid(), "project_id": project_id, "phone": wire.phone(),
        "name": "陈先生", "awareness": "outdoor_ad", "consultant_id": None,
        "occurred_at": wire.ago(2), "recorded_by": "kiosk:192.168.1.20"}
    payload.update(fields)
    return payload


def test_a_call_applies_and_its_replay_is_merged(target: Target, edge: Edge,
                                                 site: SiteAccess) -> None:
    call = call_recorded(site.project_id, consultant_id=target.consultant(site.site_id))
    edge.send(edge.envelope(1, call, type_="call.recorded"))
    edge.send(edge.envelope(2, call, type_="call.recorded"))
    edge.send(edge.envelope(3, call_recorded(site.project_id, name=None, awareness=None),
                            type_="call.recorded"))
    edge.acked(3)
    assert not [r for a in edge.acks for r in a["rejected"]]


INVALID_CALLS: dict[str, dict[str, Any]] = {
    "phone not normalised": {"phone": "+86 138 1234 5678"},
    "unknown awareness": {"awareness": "tv"},
    "consultant as string": {"consultant_id": "7"},
    "empty recorder": {"recorded_by": ""},
    "name of 51 characters": {"name": "张" * 51},
    "occurred_at without zone": {"occurred_at": "2026-11-25T10:00:00"},
    "call id not a UUID": {"call_id": "call-1"},
    "unknown field": {"duration": 60},
}


@pytest.mark.parametrize("case", list(INVALID_CALLS))
def test_an_invalid_call_is_invalid_payload(edge: Edge, site: SiteAccess, case: str) -> None:
    payload = call_recorded(site.project_id, **INVALID_CALLS[case])
    rejected_and_consumed(edge, site, edge.envelope(1, payload, type_="call.recorded"),
                          "invalid_payload")


def test_a_call_of_another_sites_project_is_project_not_in_site(
    edge: Edge, site: SiteAccess, other_site: SiteAccess
) -> None:
    payload = call_recorded(other_site.project_id)
    rejected_and_consumed(edge, site, edge.envelope(1, payload, type_="call.recorded"),
                          "project_not_in_site")
