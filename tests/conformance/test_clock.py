"""§9: clocks. The cloud takes the skew the edge measured by a fresh round trip, alarms
beyond its threshold, and corrects an event's time only when the skew is real; a visit
never lands in the future. The corrected time is what the down-feed's customer item
carries as `first_visit_at` (§10)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration


def _visit_time(edge: Edge, site: SiteAccess, *, occurred: datetime, sent: datetime
                ) -> datetime:
    """Send one visit with these edge-clock times; the time the cloud recorded."""
    phone = wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, phone),
                            occurred_at=wire.ts(occurred), sent_at=wire.ts(sent)))
    edge.acked(1)
    customer = edge.customer(site.project_id, phone)
    assert customer is not None
    return datetime.fromisoformat(customer["first_visit_at"].replace("Z", "+00:00"))


def test_a_fresh_sample_beyond_the_threshold_raises_clock_skew(target: Target, edge: Edge
                                                               ) -> None:
    """§9: skew measured at skew_sampled_at, within 10 minutes of the status's edge_time,
    is taken; |skew| above the threshold (300 s by default) raises `clock_skew`; a later
    sample within it clears it."""
    at = wire.ts(wire.now())
    edge.answer_to(edge.send_status(edge_time=at, clock_skew_seconds=400.0,
                                    skew_sampled_at=at))
    assert "clock_skew" in target.alarms(edge.site_id)
    at = wire.ts(wire.now())
    edge.answer_to(edge.send_status(edge_time=at, clock_skew_seconds=-0.25,
                                    skew_sampled_at=at))
    assert "clock_skew" not in target.alarms(edge.site_id)


def test_a_stale_sample_is_not_taken(target: Target, edge: Edge) -> None:
    """§9: a sample older than 10 minutes at the status's edge_time says nothing of the
    clock now."""
    now = wire.now()
    edge.answer_to(edge.send_status(edge_time=wire.ts(now), clock_skew_seconds=400.0,
                                    skew_sampled_at=wire.ts(now - timedelta(minutes=11))))
    assert "clock_skew" not in target.alarms(edge.site_id)


def test_a_measured_skew_corrects_the_event_time(edge: Edge, site: SiteAccess) -> None:
    """§9: an edge clock 2 h fast, measured and reported: the visit lands at its real
    time."""
    skew = timedelta(hours=2)
    now = wire.now()
    edge.answer_to(edge.send_status(edge_time=wire.ts(now + skew),
                                    clock_skew_seconds=skew.total_seconds(),
                                    skew_sampled_at=wire.ts(now + skew)))
    real = now - timedelta(minutes=3)
    recorded = _visit_time(edge, site, occurred=real + skew, sent=now + skew)
    assert abs((recorded - real).total_seconds()) < 30


def test_a_skew_within_tolerance_changes_nothing(edge: Edge, site: SiteAccess) -> None:
    """§9: |skew| ≤ 30 s is delivery delay and jitter: the time stays as sent."""
    now = wire.now()
    edge.answer_to(edge.send_status(edge_time=wire.ts(now), clock_skew_seconds=20.0,
                                    skew_sampled_at=wire.ts(now)))
    occurred = (now - timedelta(minutes=3)).replace(microsecond=250000)
    assert _visit_time(edge, site, occurred=occurred, sent=now) == occurred


def test_without_a_sample_a_sent_at_from_the_future_corrects(edge: Edge, site: SiteAccess
                                                             ) -> None:
    """§9: no estimate, but `sent_at` 1 h ahead of the cloud's clock: only a fast edge
    clock sends from the future."""
    ahead = timedelta(hours=1)
    real = wire.now() - timedelta(minutes=3)
    recorded = _visit_time(edge, site, occurred=real + ahead, sent=wire.now() + ahead)
    assert abs((recorded - real).total_seconds()) < 30


def test_without_a_sample_a_slow_clock_is_left_alone(edge: Edge, site: SiteAccess) -> None:
    """§9: a `sent_at` in the past is indistinguishable from queueing: no correction."""
    occurred = (wire.now() - timedelta(hours=2)).replace(microsecond=0)
    assert _visit_time(edge, site, occurred=occurred, sent=occurred) == occurred


def test_a_visit_never_lands_in_the_future(edge: Edge, site: SiteAccess) -> None:
    """§9: a time more than 30 s after receipt becomes the receive time."""
    recorded = _visit_time(edge, site, occurred=wire.now() + timedelta(days=1),
                           sent=wire.now())
    assert recorded <= wire.now()
