"""§6.3: an event that is well-formed and authentic but can never apply is rejected and
*consumes* its seq: the Ack names it with `consumed: true`, acked_seq passes it, and the
next seq applies. §4.2: the payload models of the event types, strictly typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration


def rejected_and_consumed(edge: Edge, site: SiteAccess, event: dict[str, Any], reason: str
                          ) -> None:
    """`event` (seq n) is refused with `reason`, consuming n; seq n + 1 applies."""
    seq = event["seq"]
    edge.send(event)
    refusal = edge.rejection(seq, reason)
    assert refusal == {"seq": seq, "event_id": event["event_id"], "reason": reason,
                       "consumed": True}
    assert edge.acked(seq)["resend_from"] is None
    edge.send(edge.envelope(seq + 1, wire.visit(site.project_id, wire.phone())))
    follower = edge.acked(seq + 1)
    assert not any(r["seq"] == seq + 1 for r in follower["rejected"])


def test_an_unknown_event_type_is_unsupported_type(edge: Edge, site: SiteAccess) -> None:
    """§6.3 `unsupported_type`."""
    event = edge.envelope(1, {"anything": 1}, type_="showing.booked")
    rejected_and_consumed(edge, site, event, "unsupported_type")


def _visit(site: SiteAccess, **changes: Any) -> dict[str, Any]:
    return {**wire.visit(site.project_id, wire.phone()), **changes}


def _without(payload: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != field}


INVALID_VISITS: dict[str, Callable[[SiteAccess], dict[str, Any]]] = {
    "party_size as string": lambda s: _visit(s, party_size="2"),
    "party_size as float": lambda s: _visit(s, party_size=2.0),
    "party_size as boolean": lambda s: _visit(s, party_size=True),
    "party_size above 50": lambda s: _visit(s, party_size=51),
    "project_id as string": lambda s: _visit(s, project_id=str(s.project_id)),
    "consultant_id beyond 2^31-1": lambda s: _visit(s, consultant_id=2**31),
    "provisional_first_visit as 1": lambda s: _visit(s, provisional_first_visit=1),
    "unknown payload field": lambda s: _visit(s, vip=True),
    "missing phone": lambda s: _without(_visit(s), "phone"),
    "phone not normalised": lambda s: _visit(s, phone="+86 138 1234 5678"),
    "name of 51 characters": lambda s: _visit(s, name="陈" * 51),
    "intent of 201 characters": lambda s: _visit(s, intent="x" * 201),
    "unknown source": lambda s: _visit(s, source="tv"),
    "visit_id not a UUID": lambda s: _visit(s, visit_id="visit-1"),
}


@pytest.mark.parametrize("case", list(INVALID_VISITS))
def test_an_invalid_visit_payload_is_invalid_payload(edge: Edge, site: SiteAccess,
                                                     case: str) -> None:
    """§4.2 `visit.registered`, §6.3 `invalid_payload`: strict types — a string, float or
    boolean where an integer is due is refused, never coerced."""
    event = edge.envelope(1, INVALID_VISITS[case](site))
    rejected_and_consumed(edge, site, event, "invalid_payload")


INVALID_FOLLOW_UPS: dict[str, dict[str, Any]] = {
    "reached as string": {"reached": "yes"},
    "unknown kind": {"kind": "letter"},
    "occurred_at without zone": {"occurred_at": "2026-11-25T10:00:00"},
    "next_at before occurred_at": {"occurred_at": "2026-11-25T10:00:00Z",
                                   "next_at": "2026-11-25T09:00:00Z"},
    "note of 501 characters": {"note": "x" * 501},
}


@pytest.mark.parametrize("case", list(INVALID_FOLLOW_UPS))
def test_an_invalid_follow_up_payload_is_invalid_payload(edge: Edge, site: SiteAccess,
                                                         case: str) -> None:
    """§4.2 `followup.recorded`, §6.3 `invalid_payload`."""
    payload = {**wire.follow_up(site.project_id, wire.phone(), 1), **INVALID_FOLLOW_UPS[case]}
    event = edge.envelope(1, payload, type_="followup.recorded")
    rejected_and_consumed(edge, site, event, "invalid_payload")


def test_an_invalid_reveal_payload_is_invalid_payload(edge: Edge, site: SiteAccess) -> None:
    """§4.2 `contact.revealed` (reason of 2–200 characters), §6.3 `invalid_payload`."""
    payload = {"project_id": site.project_id, "phone": wire.phone(), "consultant_id": 1,
               "reason": "x"}
    event = edge.envelope(1, payload, type_="contact.revealed")
    rejected_and_consumed(edge, site, event, "invalid_payload")


def test_a_project_of_another_site_is_project_not_in_site(
    edge: Edge, site: SiteAccess, other_site: SiteAccess
) -> None:
    """§6.3 `project_not_in_site`."""
    event = edge.envelope(1, wire.visit(other_site.project_id, wire.phone()))
    rejected_and_consumed(edge, site, event, "project_not_in_site")


def test_an_event_id_under_a_second_seq_is_event_id_reused(edge: Edge, site: SiteAccess
                                                           ) -> None:
    """§6.3 `event_id_reused`: one fact, one seq — in a later batch."""
    first = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    edge.send(first)
    edge.acked(1)
    again = edge.envelope(2, wire.visit(site.project_id, wire.phone()),
                          event_id=first["event_id"])
    rejected_and_consumed(edge, site, again, "event_id_reused")


def test_an_event_id_twice_in_one_burst_is_event_id_reused(edge: Edge, site: SiteAccess
                                                           ) -> None:
    """§6.3 `event_id_reused`, whether or not both copies share a batch."""
    first = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    again = edge.envelope(2, wire.visit(site.project_id, wire.phone()),
                          event_id=first["event_id"])
    edge.send(first)
    edge.send(again)
    assert edge.rejection(2, "event_id_reused")["consumed"] is True
    assert not any(r["seq"] == 1 for a in edge.acks for r in a["rejected"])


def test_a_visit_id_taken_by_another_event_is_conflict(edge: Edge, site: SiteAccess) -> None:
    """§6.3 `conflict`: a new event naming a visit that exists already."""
    first = wire.visit(site.project_id, wire.phone())
    edge.send(edge.envelope(1, first))
    edge.acked(1)
    again = edge.envelope(2, wire.visit(site.project_id, wire.phone(),
                                        visit_id=first["visit_id"]))
    rejected_and_consumed(edge, site, again, "conflict")


@pytest.mark.parametrize("text", ["三房\u0000", "三房\u0007", "三房\u007f"])
def test_text_with_control_characters_is_invalid_payload(edge: Edge, site: SiteAccess,
                                                         text: str) -> None:
    """§6.3: payload text holds no control characters but tab, LF and CR (PostgreSQL
    cannot even store NUL): the event is refused on its own and never stalls the site."""
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone(), intent=text)))
    assert edge.rejection(1, "invalid_payload", timeout=5)["consumed"] is True
    edge.send(edge.envelope(2, wire.visit(site.project_id, wire.phone(), intent="三房\n学区")))
    assert edge.acked(2)["rejected"] == []


def test_follow_up_and_reveal_events_apply(target: Target, edge: Edge, site: SiteAccess
                                           ) -> None:
    """§4.2: a follow-up on a customer the cloud knows, and a reveal, apply (no
    rejection); an effective follow-up updates the customer's `last_effective_at`."""
    consultant = target.consultant(site.site_id)
    phone = wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, phone)))
    edge.send(edge.envelope(2, wire.follow_up(site.project_id, phone, consultant,
                                              occurred_at=wire.ago(1)),
                            type_="followup.recorded"))
    edge.send(edge.envelope(3, {"project_id": site.project_id, "phone": phone,
                                "consultant_id": consultant, "reason": "电话跟进"},
                            type_="contact.revealed"))
    edge.acked(3)
    assert not [r for a in edge.acks for r in a["rejected"]]
    customer = edge.customer(site.project_id, phone)
    assert customer is not None and customer["last_effective_at"] is not None


def test_follow_up_rejections(target: Target, edge: Edge, site: SiteAccess,
                              other_site: SiteAccess, connect: Callable[..., Edge]) -> None:
    """§6.3 `customer_not_found`, `unknown_consultant`, `follow_up_content_required`,
    `follow_up_id_reused`, `visit_not_in_site` — each consuming its seq."""
    consultant, colleague = target.consultant(site.site_id), target.consultant(site.site_id)
    phone = wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, phone)))
    edge.acked(1)
    # A visit of the other site, for a follow-up here to name.
    elsewhere = connect(other_site)
    foreign = wire.visit(other_site.project_id, wire.phone())
    elsewhere.send(elsewhere.envelope(1, foreign))
    elsewhere.acked(1)

    def follow_up(seq: int, **fields: Any) -> dict[str, Any]:
        payload = {**wire.follow_up(site.project_id, phone, consultant), **fields}
        return edge.envelope(seq, payload, type_="followup.recorded")

    rejected_and_consumed(edge, site, follow_up(2, phone=wire.phone()), "customer_not_found")
    rejected_and_consumed(edge, site, follow_up(4, consultant_id=2**31 - 1),
                          "unknown_consultant")
    rejected_and_consumed(edge, site, follow_up(6, note="  "), "follow_up_content_required")
    taken = follow_up(8)
    edge.send(taken)
    edge.acked(8)
    reused = follow_up(9, consultant_id=colleague,
                       follow_up_id=taken["payload"]["follow_up_id"])
    rejected_and_consumed(edge, site, reused, "follow_up_id_reused")
    rejected_and_consumed(edge, site, follow_up(11, visit_id=foreign["visit_id"]),
                          "visit_not_in_site")


def test_a_customer_search_applies_and_a_malformed_one_is_invalid_payload(
    target: Target, edge: Edge, site: SiteAccess
) -> None:
    """§4.2 `customer.searched` (about the site: no project), §6.3 `invalid_payload`."""
    consultant = target.consultant(site.site_id)
    edge.send(edge.envelope(1, {"consultant_id": consultant, "by": "phone",
                                "phone": wire.phone(), "matches": 1},
                            type_="customer.searched"))
    edge.acked(1)
    assert not [r for a in edge.acks for r in a["rejected"]]
    searched_text = {"consultant_id": consultant, "by": "name", "phone": None, "matches": 0,
                     "query": "陈"}
    rejected_and_consumed(edge, site, edge.envelope(2, searched_text, type_="customer.searched"),
                          "invalid_payload")
