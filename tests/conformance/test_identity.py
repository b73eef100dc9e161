"""§8: who speaks for a site. The first store (epoch) is adopted; another is refused
(`epoch_mismatch`, consuming nothing) until the operator re-enrols the site. Two agents
(instances) heard at once are twins: the newer is refused (`instance_conflict`) until
the operator picks one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration


def refused_unconsumed(edge: Edge, site: SiteAccess, seq: int, reason: str
                       ) -> dict[str, Any]:
    """A new event at `seq` is refused with `reason`, its seq and event_id named,
    `consumed: false`; returns it (to send again once the refusal is lifted)."""
    event = edge.envelope(seq, wire.visit(site.project_id, wire.phone()))
    edge.send(event)
    assert edge.rejection(seq, reason) == {"seq": seq, "event_id": event["event_id"],
                                           "reason": reason, "consumed": False}
    return event


def test_the_first_epoch_is_adopted_from_an_envelope_too(edge: Edge, site: SiteAccess
                                                         ) -> None:
    """§8: a site without an enrolled store adopts the epoch of the first status or
    envelope it hears."""
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())))
    assert edge.acked(1)["epoch"] == edge.epoch


def test_another_epoch_is_refused_until_the_site_is_re_enrolled(
    target: Target, connect: Callable[..., Edge], site: SiteAccess
) -> None:
    """§8: a re-imaged or restored store (new epoch) is refused — its status answered with
    the enrolled epoch and an unconsumed `epoch_mismatch` (no seq), its envelopes named
    with their seq — and the console shows `epoch_refused`. After `anchang site re-enrol`
    its next status is adopted and the stream continues from that store's acked
    position; the old store is refused from then on."""
    old, new = connect(site), connect(site)
    old.answer_to(old.send_status())
    old.send(old.envelope(1, wire.visit(site.project_id, wire.phone())))
    old.acked(1)

    refused = new.answer_to(new.send_status())
    assert (refused["epoch"], refused["acked_seq"]) == (old.epoch, 1)
    assert refused["rejected"] == [{"seq": None, "event_id": None, "reason": "epoch_mismatch",
                                    "consumed": False}]
    assert "epoch_refused" in target.alarms(site.site_id)
    event = refused_unconsumed(new, site, 1, "epoch_mismatch")

    target.reenrol(site.site_id)
    adopted = new.answer_to(new.send_status())
    assert (adopted["epoch"], adopted["acked_seq"], adopted["rejected"]) == (new.epoch, 0, [])
    assert "epoch_refused" not in target.alarms(site.site_id)
    before = new.ack_count()
    new.send(event)
    applied = new.acked(1, after=before)
    assert (applied["epoch"], applied["rejected"]) == (new.epoch, [])

    before = old.ack_count()
    old.send(old.envelope(2, wire.visit(site.project_id, wire.phone())))
    # Both stores listen on the site's ack topic, so the ack of the new store's event may
    # reach the old one after `before`: wait for the answer that speaks of seq 2 (or of
    # the old epoch, had the cloud wrongly taken it).
    gone = old.wait_ack(lambda a: a["epoch"] == old.epoch
                        or any(r["seq"] == 2 for r in a["rejected"]),
                        after=before, what="the answer to the old store")
    assert gone["epoch"] == new.epoch
    assert [r["reason"] for r in gone["rejected"]] == ["epoch_mismatch"]


def test_a_re_enrolled_store_continues_from_its_own_acked_position(
    target: Target, connect: Callable[..., Edge], site: SiteAccess
) -> None:
    """§8, §12: a store restored from an older backup of itself takes a new epoch and
    reports the ack it holds; after re-enrolment the cloud continues from there."""
    old, restored = connect(site), connect(site)
    for seq in (1, 2, 3):
        old.send(old.envelope(seq, wire.visit(site.project_id, wire.phone())))
    old.acked(3)
    target.reenrol(site.site_id)
    adopted = restored.answer_to(restored.send_status(last_acked_seq=2, next_seq=4))
    assert (adopted["epoch"], adopted["acked_seq"]) == (restored.epoch, 2)
    before = restored.ack_count()
    restored.send(restored.envelope(3, wire.visit(site.project_id, wire.phone())))
    assert restored.acked(3, after=before)["rejected"] == []


def test_two_agents_at_once_are_twins_and_the_newer_is_refused(
    target: Target, connect: Callable[..., Edge], site: SiteAccess
) -> None:
    """§8: one store, a new instance takes over (a restart) — until the previous one
    speaks again within 5 minutes: twins. The console shows `twin`; the newer instance's
    envelopes and statuses are refused `instance_conflict` (unconsumed) until
    `anchang site resolve-twin SITE --keep INSTANCE`, after which the other is
    refused."""
    first = connect(site)
    clone = connect(site)
    clone.epoch = first.epoch  # a cloned appliance: the same store, another process
    first.send(first.envelope(1, wire.visit(site.project_id, wire.phone())))
    first.acked(1)
    clone.send(clone.envelope(2, wire.visit(site.project_id, wire.phone())))
    clone.acked(2)  # a restart, as far as anyone can tell
    first.send(first.envelope(3, wire.visit(site.project_id, wire.phone())))
    first.acked(3)
    assert "twin" in target.alarms(site.site_id)

    event = refused_unconsumed(clone, site, 4, "instance_conflict")
    answer = clone.answer_to(clone.send_status())
    assert answer["acked_seq"] == 3
    assert answer["rejected"] == [{"seq": None, "event_id": None,
                                   "reason": "instance_conflict", "consumed": False}]

    target.resolve_twin(site.site_id, keep=clone.instance)
    assert "twin" not in target.alarms(site.site_id)
    before = clone.ack_count()
    clone.send(event)
    assert clone.acked(4, after=before)["rejected"] == []
    before = first.ack_count()
    first.send(first.envelope(5, wire.visit(site.project_id, wire.phone())))
    refused = first.wait_ack(lambda a: True, after=before, what="the answer to the other")
    assert [r["reason"] for r in refused["rejected"]] == ["instance_conflict"]
