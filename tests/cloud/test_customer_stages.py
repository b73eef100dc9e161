"""The customer's sales stage machine, walked exhaustively: every (from, to) pair of
stages by every actor — the deal documents' hook and each role — against a table
written here by hand, so a widened transition in the code fails too; then the route."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.sales import stages
from cloud.sales.models import Customer
from cloud.sync.models import DownFeed
from shared.errors import AppError
from shared.timeutil import utcnow
from tests.cloud import audit_rows, problem, signed_in

D, M = "deal", "sales_manager"
# The policy, by hand: (from, to) → who may; every other triple is refused.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("visited", "pledged"): {D},
    ("visited", "subscribed"): {D},
    ("pledged", "subscribed"): {D},
    ("subscribed", "pledged"): {D},
    ("pledged", "refunded"): {D},
    ("subscribed", "to_sign"): {D},
    ("subscribed", "visited"): {D},
    ("subscribed", "refunded"): {D},
    ("to_sign", "signed"): {D},
    ("to_sign", "visited"): {D},
    ("to_sign", "void"): {D, M},
    ("signed", "visited"): {D},
    ("signed", "refunded"): {D},
    ("visited", "void"): {M},
    ("void", "visited"): {M},
    ("refunded", "visited"): {D, M},
}
STAGES = ("visited", "pledged", "subscribed", "to_sign", "signed", "void", "refunded")


def _outcome(current: str, target: str, actor: str) -> str:
    try:
        stages.check(current, target, {actor})
    except AppError as exc:
        return exc.code
    return "allowed"


@pytest.mark.parametrize("current,target", list(itertools.product(STAGES, STAGES)))
def test_every_transition_by_every_actor(current: str, target: str) -> None:
    assert set(stages.STAGES) == set(STAGES)
    for actor in stages.ACTORS:
        got = _outcome(current, target, actor)
        allowed = EXPECTED.get((current, target))
        if allowed is None:
            assert got == "customer_stage_refused", (current, target, actor)
        elif actor in allowed:
            assert got == "allowed", (current, target, actor)
        else:
            assert got == "customer_stage_forbidden", (current, target, actor)


def test_the_table_names_no_transition_the_policy_lacks() -> None:
    assert {k: set(v) for k, v in stages.TRANSITIONS.items()} == EXPECTED


def test_an_unknown_stage_is_invalid_input() -> None:
    assert _outcome("visited", "sold", D) == "customer_stage_unknown"


def test_pledged_and_later_never_lapse() -> None:
    assert [s for s in STAGES if s in stages.NEVER_LAPSE] == [
        "pledged", "subscribed", "to_sign", "signed"]


def test_the_deal_hook_moves_only_what_a_deal_may() -> None:
    now = utcnow()
    customer = Customer(project_id=1, phone_enc="-", phone_bidx="-", phone34_bidx="-",
                        phone_masked="-", first_visit_at=now, last_visit_at=now,
                        protection_until=now)
    for target in ("pledged", "subscribed", "to_sign", "signed", "visited"):
        stages.apply_deal(customer, target)
        assert customer.status == target
    with pytest.raises(stages.StageTransitionForbidden):
        stages.apply_deal(customer, "void")
    assert customer.status == "visited"


def test_the_stage_route_applies_the_table_by_role(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    url = f"/api/v1/customers/{world['site-a'].customer_id}/stage"
    manager = signed_in(client, "manager_a")
    by_hand = client.post(url, headers=manager, json={"to": "pledged", "reason": "已交认筹金"})
    assert by_hand.status_code == 403
    assert problem(by_hand)["code"] == "customer_stage_forbidden"
    skipped = client.post(url, headers=manager, json={"to": "signed", "reason": "直接签约"})
    assert problem(skipped)["code"] == "customer_stage_refused"
    voided = client.post(url, headers=manager, json={"to": "void", "reason": "非购房客户"})
    assert voided.status_code == 200 and voided.json()["customer"]["stage"] == "void"
    [audit] = audit_rows(db, "customer.stage")
    assert (audit.detail["before"], audit.detail["after"]) == ("visited", "void")
    fed = db.exec(select(DownFeed).where(DownFeed.kind == "customer", DownFeed.site_id == "site-a")
                  .order_by(col(DownFeed.offset).desc())).first()
    assert fed is not None and fed.data["customer_ref"] == str(world["site-a"].customer_id)
    assert fed.data["status"] == "void"  # the appliance's copy follows the stage
    consultant = client.post(url, headers=signed_in(client, "consult_a"),
                             json={"to": "visited", "reason": "重新跟进"})
    assert consultant.status_code == 403
    assert problem(consultant)["missing_permissions"] == ["sales:ownership:assign"]
