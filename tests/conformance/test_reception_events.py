"""§4.2 `visit.profiled` and `rota.changed` (ADR 0033): both apply, a repeated profile is
no rejection, and each refusal the text names consumes its seq — strictly typed payloads
(`invalid_payload`), a visit the site does not have (`visit_not_in_site`), a project of
another site (`project_not_in_site`), a correction after the visit's Beijing day
(`visit_correction_closed`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target
from tests.conformance.test_event_rejections import rejected_and_consumed

pytestmark = pytest.mark.integration

SHANGHAI = timedelta(hours=8)


def profiled(visit_id: str, project_id: int, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "visit_id": visit_id, "project_id": project_id, "revision": 0,
        "profile": {"gender": "female", "grade": "B", "layout": "三室两厅",
                    "budget_min": 300, "budget_max": 450, "purpose": "own_use"},
        "party_size": 2, "source": "referral_old_customer", "consumed_turn": True}
    payload.update(fields)
    return payload


def rota_changed(project_id: int, consultant: int, **fields: Any) -> dict[str, Any]:
    today = (datetime.now(UTC) + SHANGHAI).date().isoformat()
    payload: dict[str, Any] = {
        "rota_event_id": wire.uid(), "project_id": project_id, "duty_date": today,
        "occurred_at": wire.ago(2), "consultant_id": consultant, "action": "away",
        "actor": "kiosk:192.168.1.20", "reason": "午餐（补接，保留队首）",
        "away_reason": "lunch", "visit_id": None, "position_before": 1,
        "position_after": 1, "detail": {"effect": "keep"}}
    payload.update(fields)
    return payload


def test_a_profile_and_a_rota_change_apply(target: Target, edge: Edge, site: SiteAccess
                                           ) -> None:
    consultant = target.consultant(site.site_id)
    visit = wire.visit(site.project_id, wire.phone(), consultant_id=consultant)
    edge.send(edge.envelope(1, visit))
    edge.send(edge.envelope(2, profiled(visit["visit_id"], site.project_id),
                            type_="visit.profiled"))
    edge.send(edge.envelope(3, rota_changed(site.project_id, consultant),
                            type_="rota.changed"))
    # The same revision again (a replay under a new event): merged, not refused.
    edge.send(edge.envelope(4, profiled(visit["visit_id"], site.project_id),
                            type_="visit.profiled"))
    edge.acked(4)
    assert not [r for a in edge.acks for r in a["rejected"]]


INVALID_PROFILES: dict[str, dict[str, Any]] = {
    "grade E": {"profile": {"grade": "E"}},
    "area minimum above maximum": {"profile": {"area_min": 140, "area_max": 110}},
    "budget as string": {"profile": {"budget_min": "300"}},
    "unknown profile field": {"profile": {"income": 100}},
    "correction without its manager": {"revision": 1, "reason": "等级填错"},
    "correction without a reason": {"revision": 1, "corrected_by": 1},
    "stand-in share above 100": {"stand_in_share": 101},
    "claim day not a date": {"claimable_until": "2026-13-01"},
    "unknown source": {"source": "tv"},
    "unknown field": {"vip": True},
    "revision as string": {"revision": "0"},
}


@pytest.mark.parametrize("case", list(INVALID_PROFILES))
def test_an_invalid_profile_is_invalid_payload(edge: Edge, site: SiteAccess, case: str) -> None:
    visit = wire.visit(site.project_id, wire.phone())
    edge.send(edge.envelope(1, visit))
    edge.acked(1)
    payload = profiled(visit["visit_id"], site.project_id, **INVALID_PROFILES[case])
    rejected_and_consumed(edge, site, edge.envelope(2, payload, type_="visit.profiled"),
                          "invalid_payload")


INVALID_ROTA: dict[str, dict[str, Any]] = {
    "unknown action": {"action": "nap"},
    "unknown away reason": {"away_reason": "nap"},
    "position 0": {"position_before": 0},
    "empty actor": {"actor": ""},
    "reason of 201 characters": {"reason": "x" * 201},
    "duty date not ISO": {"duty_date": "2026/11/25"},
    "consultant as string": {"consultant_id": "7"},
    "detail of 21 keys": {"detail": {f"k{i}": i for i in range(21)}},
    "occurred_at without zone": {"occurred_at": "2026-11-25T10:00:00"},
    "unknown field": {"tablet": "t1"},
}


@pytest.mark.parametrize("case", list(INVALID_ROTA))
def test_an_invalid_rota_change_is_invalid_payload(target: Target, edge: Edge,
                                                   site: SiteAccess, case: str) -> None:
    consultant = target.consultant(site.site_id)
    payload = rota_changed(site.project_id, consultant, **INVALID_ROTA[case])
    rejected_and_consumed(edge, site, edge.envelope(1, payload, type_="rota.changed"),
                          "invalid_payload")


def test_a_rota_change_of_another_sites_project_is_project_not_in_site(
    target: Target, edge: Edge, site: SiteAccess, other_site: SiteAccess
) -> None:
    payload = rota_changed(other_site.project_id, target.consultant(site.site_id))
    rejected_and_consumed(edge, site, edge.envelope(1, payload, type_="rota.changed"),
                          "project_not_in_site")


def test_a_profile_of_a_visit_the_site_lacks_is_visit_not_in_site(
    edge: Edge, site: SiteAccess, other_site: SiteAccess, connect: Any
) -> None:
    rejected_and_consumed(edge, site, edge.envelope(
        1, profiled(wire.uid(), site.project_id), type_="visit.profiled"), "visit_not_in_site")
    elsewhere = connect(other_site)
    foreign = wire.visit(other_site.project_id, wire.phone())
    elsewhere.send(elsewhere.envelope(1, foreign))
    elsewhere.acked(1)
    rejected_and_consumed(edge, site, edge.envelope(
        3, profiled(foreign["visit_id"], site.project_id), type_="visit.profiled"),
        "visit_not_in_site")


def test_a_correction_after_the_visits_day_is_visit_correction_closed(
    edge: Edge, site: SiteAccess
) -> None:
    """No back-filling: a correction made (event time) on a later Beijing day."""
    visit = wire.visit(site.project_id, wire.phone())
    edge.send(edge.envelope(1, visit, occurred_at=wire.ago(3 * 86_400)))
    edge.send(edge.envelope(2, profiled(visit["visit_id"], site.project_id),
                            type_="visit.profiled", occurred_at=wire.ago(3 * 86_400 - 5)))
    edge.acked(2)
    correction = profiled(visit["visit_id"], site.project_id, revision=1, corrected_by=1,
                          reason="等级填错")
    rejected_and_consumed(edge, site, edge.envelope(3, correction, type_="visit.profiled"),
                          "visit_correction_closed")
