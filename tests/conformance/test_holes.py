"""§11: a hole is watched by a clock, not by traffic. A site whose stream stopped with a
hole open is asked again for the missing seq and alarmed within the threshold, though
nothing else arrives."""

from __future__ import annotations

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge, wait_for
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration

# The consumer looks at holes every 5 s (§11): the re-ask comes within threshold + 5 s.
LOOK_EVERY = 5


def test_an_open_hole_is_asked_for_again_and_alarmed_without_traffic(
    target: Target, edge: Edge, site: SiteAccess
) -> None:
    """§11: past ANCHANG_CLOUD_SYNC_GAP_ALARM_SECONDS the cloud publishes, unprompted, an
    Ack with resend_from and raises `gap_unhealed`; filling the hole clears it."""
    edge.send(edge.envelope(2, wire.visit(site.project_id, wire.phone())))
    first = edge.wait_ack(lambda a: a["resend_from"] == 1, what="the hole reported")
    seen = edge.ack_count()
    asked = edge.wait_ack(lambda a: a["resend_from"] == 1, after=seen,
                          timeout=target.gap_alarm_seconds + LOOK_EVERY + 3,
                          what="the re-ask driven by the clock")
    assert (asked["acked_seq"], asked["epoch"], asked["rejected"]) == (0, first["epoch"], [])
    assert "gap_unhealed" in target.alarms(site.site_id)
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())))
    edge.acked(2)
    wait_for(lambda: "gap_unhealed" not in target.alarms(site.site_id), what="cleared")
