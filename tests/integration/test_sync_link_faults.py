"""Faults of one live connection, between the real edge agent and Mosquitto (the chaos
proxy in between), with the real consumer and PostgreSQL — the ones that froze the link
or rewrote times before protocol 2:

- PUBLISH frames swallowed on a connection that stays up, towards the broker or towards
  the edge: no ack progress → the agent rebuilds the link and sends again; nothing lost
  or doubled, and the link moves again within a few ack timeouts;
- a black hole of 20 s on a machine whose clocks agree: every visit arrives with the
  time it was registered at — none corrected — and no clock-skew alarm.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Visit
from tests.chaos.stack import Stack, make_consultant
from tests.integration.peer import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

CONVERGE_WITHIN = 45.0  # a few ack timeouts (3 s in the test agent) and reconnects


def register(stack: Stack, consultant: int, n: int, tag: str) -> str:
    response = stack.edge.register(
        {"project_id": stack.site.project_id, "phone": f"13{tag}{n:08d}", "party_size": 1,
         "consultant_id": consultant}, key=uuid.uuid4().hex)
    assert response.status_code == 201, response.text
    visit_id: str = response.json()["id"]
    return visit_id


def cloud_visits(stack: Stack) -> dict[str, Visit]:
    with Session(stack.engine) as s:
        return {v.id: v for v in s.exec(select(Visit)).all()}


@pytest.mark.parametrize("direction", ["up", "down"])
def test_publishes_swallowed_on_a_live_connection_do_not_freeze_the_link(
    chaos_stack: Stack, direction: str
) -> None:
    consultant = make_consultant(chaos_stack.engine, chaos_stack.site.site_id)
    chaos_stack.start(consultant)
    # The next 25 PUBLISH frames of the live connection vanish; the link itself stays up.
    assert chaos_stack.proxy.swallow(direction, 25) == 1
    registered = [register(chaos_stack, consultant, n, "5") for n in range(60)]
    started = time.monotonic()
    converged = chaos_stack.wait_converged(CONVERGE_WITHIN)
    assert converged is not None, "the link froze"
    visits = cloud_visits(chaos_stack)
    assert sorted(visits) == sorted(registered)  # each once: ids are the primary key
    assert time.monotonic() - started < CONVERGE_WITHIN
    with Session(chaos_stack.engine) as s:
        events = s.exec(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "sync.events_applied")).one()
    assert events >= 1


def test_a_black_hole_rewrites_no_time_on_clocks_that_agree(chaos_stack: Stack) -> None:
    consultant = make_consultant(chaos_stack.engine, chaos_stack.site.site_id)
    chaos_stack.start(consultant)
    chaos_stack.proxy.blackhole("both")  # bytes go nowhere; the sockets stay open
    registered = [register(chaos_stack, consultant, n, "6") for n in range(20)]
    time.sleep(20)  # statuses queue up behind the hole and would arrive late
    chaos_stack.proxy.clear()
    assert chaos_stack.wait_converged(CONVERGE_WITHIN) is not None
    visits = cloud_visits(chaos_stack)
    assert sorted(visits) == sorted(registered)
    assert [v.id for v in visits.values() if v.time_corrected] == []
    assert all(v.occurred_at == v.edge_occurred_at for v in visits.values())
    with Session(chaos_stack.engine) as s:
        alarms = s.exec(select(AuditLog).where(AuditLog.action == "sync.clock_skew")).all()
    assert alarms == []
    wait_for(lambda: chaos_stack.cloud_state().last_applied_seq == 20, what="all applied")
