"""判客依据 (why a customer is owned) and 规则模拟 (what-if of a rule change), through the
API on real PostgreSQL: the timeline of each customer, and the customers a proposed rule
set would change — exactly those, and none for the rules already in force."""

from __future__ import annotations

import json
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from cloud.audit.models import AuditLog
from cloud.channel import whatif
from cloud.channel.models import Referral, RuleVersion
from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import apply, envelope

# X referred 40 h ago, never came; Y referred 2 h ago; Z referred 3 h ago and came 45
# minutes later; OLD referred 40 days ago.
X, Y, Z, OLD = "13611110001", "13611110002", "13611110003", "13611110004"


@dataclass
class Judging:
    now: datetime
    referrals: dict[str, int]
    z_customer: int


def _refer_at(api: TestClient, db: Session, broker: str, project: int, phone: str,
              at: datetime) -> int:
    answer = refer(api, _as(api, broker), project, phone)
    assert answer.status_code == 201, answer.text
    referral_id: int = answer.json()["id"]
    db.execute(update(Referral).where(col(Referral.id) == referral_id).values(created_at=at))
    db.commit()
    return referral_id


def _visit_at(db: Session, settings: CloudSettings, cw: ChannelWorld, phone: str,
              at: datetime) -> int:
    site = cw.sales["site-a"]
    visit_id = str(uuid.uuid4())
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": visit_id, "project_id": site.project_id, "phone": phone,
        "party_size": 1, "consultant_id": cw.sales["consult_a"]})])
    db.execute(update(Visit).where(col(Visit.id) == visit_id).values(occurred_at=at))
    db.commit()
    return db.exec(select(Visit.customer_id).where(Visit.id == visit_id)).one()


@pytest.fixture
def judging(api: TestClient, cw: ChannelWorld, db: Session,
            settings: CloudSettings) -> Judging:
    now = utcnow()
    project = cw.project("site-a")
    referrals = {
        X: _refer_at(api, db, "broker_a1", project, X, now - timedelta(hours=40)),
        Y: _refer_at(api, db, "broker_b1", project, Y, now - timedelta(hours=2)),
        Z: _refer_at(api, db, "broker_a2", project, Z, now - timedelta(hours=3)),
        OLD: _refer_at(api, db, "broker_a1", project, OLD, now - timedelta(days=40)),
    }
    z_customer = _visit_at(db, settings, cw, Z, now - timedelta(hours=3) + timedelta(minutes=45))
    return Judging(now, referrals, z_customer)


# Per client (one per test), gone with it.
_TOKENS: weakref.WeakKeyDictionary[TestClient, dict[str, dict[str, str]]] = (
    weakref.WeakKeyDictionary())


def _as(api: TestClient, user: str) -> dict[str, str]:
    """One sign-in per user and client: password hashing is the slow part of these tests."""
    tokens = _TOKENS.setdefault(api, {})
    if user not in tokens:
        tokens[user] = signed_in(api, user)
    return tokens[user]


def _why(api: TestClient, project: int, user: str = "cm_a", **query: Any) -> Any:
    return api.get(f"/api/v1/channel/projects/{project}/attribution",
                   headers=_as(api, user), params=query)


def _what_if(api: TestClient, project: int, rules: dict[str, Any], user: str = "cm_a",
             days: int | None = None) -> Any:
    body: dict[str, Any] = {"rules": rules} | ({"days": days} if days else {})
    return api.post(f"/api/v1/channel/projects/{project}/rules/what-if",
                    headers=_as(api, user), json=body)


def test_why_shows_each_step_with_its_reason_and_the_owner_after_it(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    answer = _why(api, cw.project("site-a"), phone=Z)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [v["version"] for v in body["rule_versions"]] == [1]
    [timeline] = body["timelines"]
    assert timeline["phone_masked"] == "136****0003"
    assert timeline["customer_id"] == judging.z_customer
    referral = judging.referrals[Z]
    steps = timeline["steps"]
    assert [(s["kind"], s["title"]) for s in steps] == [("referral", "报备"), ("visit", "到访")]
    refer_step, visit_step = steps
    assert refer_step["fact"]["broker_name"] == "broker_a2"
    assert refer_step["fact"]["agency_name"] == "渠道A"
    assert refer_step["fact"]["customer_name"] == "张**"
    assert refer_step["changes"] == [{
        "referral_id": referral, "state": "confirmed", "state_text": "有效",
        "reason": {"code": "referral_protected", "text": "报备有效，处于报备保护期",
                   "evidence": [f"referral:{referral}"], "rule_version": 1}}]
    assert refer_step["owner"]["kind"] == "channel"
    assert refer_step["owner"]["stage"] == "referral"
    assert visit_step["fact"]["guided"] is False
    assert visit_step["fact"]["actor_name"] == "consult_a"
    [change] = visit_step["changes"]
    assert (change["state"], change["reason"]["code"]) == ("confirmed", "visit_confirmed")
    assert change["reason"]["text"] == "带看已确认，处于到访保护期"
    assert visit_step["step_id"] in change["reason"]["evidence"]
    owner = timeline["owner"]
    assert (owner["kind"], owner["broker_id"], owner["broker_name"], owner["stage"]) == (
        "channel", cw.brokers["broker_a2"].id, "broker_a2", "visit")
    assert owner["consultant_name"] == "consult_a"
    assert timeline["referrals"][0]["state_text"] == "有效"
    assert timeline["visit_count"] == 1


def test_why_by_referral_and_by_customer_answer_the_same_timeline(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    project = cw.project("site-a")
    by_phone = _why(api, project, phone=Z).json()["timelines"]
    by_referral = _why(api, project, referral_id=judging.referrals[Z]).json()["timelines"]
    by_customer = _why(api, project, customer_id=judging.z_customer).json()["timelines"]
    steps = [[s["step_id"] for s in t[0]["steps"]] for t in (by_phone, by_referral, by_customer)]
    assert steps[0] == steps[1] == steps[2]
    assert by_referral[0]["owner"] == by_customer[0]["owner"]


def test_a_rule_change_is_a_step_that_says_what_changed(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    published = api.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules",
                         headers=_as(api, "cm_a"), json={"rules": {
                             "referral_protection": {"kind": "duration", "length": "PT48H"}}})
    assert published.status_code == 201, published.text

    [timeline] = _why(api, cw.project("site-a"), phone=X).json()["timelines"]
    kinds = [(s["step_id"], s["title"]) for s in timeline["steps"]]
    assert kinds == [(f"referral:{judging.referrals[X]}", "报备"), ("rules:v2", "规则变更")]
    fact = timeline["steps"][1]["fact"]
    assert fact["rule_version"] == 2
    assert fact["rule_changes"] == [{
        "field": "referral_protection",
        "before": {"kind": "duration", "length": "P3D"},
        "after": {"kind": "duration", "length": "P2D"}}]
    # The window moved to the new length from the referral: 48 h, 8 h from now.
    until = datetime.fromisoformat(timeline["owner"]["protection_until"])
    assert abs(until - (judging.now + timedelta(hours=8))) < timedelta(minutes=1)
    assert timeline["owner"]["reason"]["rule_version"] == 2


def test_an_unknown_number_has_no_timeline_and_a_mask_is_not_a_lookup(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    project = cw.project("site-a")
    unknown = _why(api, project, phone="13899990000")
    assert unknown.status_code == 200 and unknown.json()["timelines"] == []
    for query in ({"phone": "136****0003"}, {}, {"phone": Z, "referral_id": 1},
                  {"phone": "not a phone"}):
        refused = _why(api, project, **query)
        assert refused.status_code == 422, query
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert _why(api, project, phone="136****0003").json()["code"] == (
        "attribution_lookup_invalid")


def test_why_is_for_the_channel_staff_of_the_projects_site(
    api: TestClient, cw: ChannelWorld, db: Session, judging: Judging
) -> None:
    project_a, project_b = cw.project("site-a"), cw.project("site-b")
    assert _why(api, project_a, user="cm_b", phone=Z).status_code == 404
    assert _why(api, project_a, user="hqadmin", phone=Z).status_code == 200
    for outsider in ("broker_a2", "agency_a", "consult_a"):
        assert _why(api, project_a, user=outsider, phone=Z).status_code == 403
    # A referral or customer of another project is not found through this one.
    b_referral = refer(api, _as(api, "broker_b1"), project_b, Z).json()["id"]
    assert _why(api, project_a, referral_id=b_referral).status_code == 404
    assert _why(api, project_b, referral_id=judging.referrals[Z]).status_code == 404
    b_customer = db.exec(select(Customer.id).where(Customer.project_id == project_b)).first()
    assert _why(api, project_a, customer_id=b_customer).json()["code"] == "customer_not_found"


def test_each_lookup_is_audited_without_the_number(
    api: TestClient, cw: ChannelWorld, db: Session, judging: Judging
) -> None:
    _why(api, cw.project("site-a"), phone=Z)
    _why(api, cw.project("site-a"), phone="13899990000")
    rows = db.exec(select(AuditLog).where(AuditLog.action == "channel.attribution_view")
                   .order_by(col(AuditLog.id))).all()
    assert [(r.detail["by"], r.detail["phone"], r.detail["customers"]) for r in rows] == [
        ("phone", "136****0003", 1), ("phone", "138****0000", 0)]
    assert rows[0].object_id == str(cw.project("site-a"))
    assert all(Z not in json.dumps(r.detail) for r in rows)


def _changed(body: dict[str, Any]) -> dict[str, Any]:
    return {c["phone_masked"]: c for c in body["customers"]}


def test_a_shorter_referral_window_changes_exactly_the_customer_past_it(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    answer = _what_if(api, cw.project("site-a"), {
        "referral_protection": {"kind": "duration", "length": "PT36H"}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # X, Y, Z and the sales world's own customer were active in the last 30 days; OLD not.
    assert (body["checked"], body["truncated"], body["days"]) == (4, False, 30)
    assert body["proposed_version"] == 2
    # X's window is past; Y's (referred 2 h ago) ends 36 h earlier, nothing else moves.
    assert sorted(_changed(body)) == ["136****0001", "136****0002"]
    y = _changed(body)["136****0002"]
    assert y["owner_changed"] is False
    [window] = y["referrals"]
    assert window["window_changed"] is True and window["after_state"] == "confirmed"
    moved = (datetime.fromisoformat(window["before_protection_until"])
             - datetime.fromisoformat(window["after_protection_until"]))
    assert moved == timedelta(hours=36)
    x = _changed(body)["136****0001"]
    assert x["owner_changed"] is True
    assert (x["owner_before"]["kind"], x["owner_before"]["broker_name"]) == ("channel",
                                                                              "broker_a1")
    assert x["owner_after"]["kind"] == "none"
    assert x["referral_id"] == judging.referrals[X]
    [referral] = x["referrals"]
    assert (referral["before_state"], referral["before"]["code"]) == ("confirmed",
                                                                      "referral_protected")
    assert (referral["after_state"], referral["after"]["code"]) == ("expired", "visit_overdue")
    assert referral["after"]["text"] == "到访逾期"
    assert referral["window_changed"] is False
    assert (body["changed"], body["owner_changed"], body["referrals_changed"],
            body["windows_changed"]) == (2, 1, 1, 1)


def test_a_version_scheduled_for_later_is_replayed_from_its_effective_from(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    later = judging.now + timedelta(hours=10)
    answer = api.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules/what-if",
                      headers=_as(api, "cm_a"), json={
                          "rules": {"referral_protection": {"kind": "duration",
                                                            "length": "PT36H"}},
                          "effective_from": later.isoformat()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # Judged as the version takes effect, not as if in force for the whole window: X's
    # window (72 h from 40 h ago) is not over yet, it ends when the version starts; Y's
    # moves to 36 h from its referral. Nobody's state or owner changes.
    assert datetime.fromisoformat(body["replayed_from"]) == later
    assert datetime.fromisoformat(body["as_of"]) == later
    assert (body["owner_changed"], body["referrals_changed"], body["windows_changed"]) == (
        0, 0, 2)
    ends = {c["phone_masked"]: c["referrals"][0] for c in body["customers"]}
    assert sorted(ends) == ["136****0001", "136****0002"]
    x, y = ends["136****0001"], ends["136****0002"]
    assert (x["before_state"], x["after_state"]) == ("confirmed", "confirmed")
    assert datetime.fromisoformat(x["after_protection_until"]) == later
    assert abs(datetime.fromisoformat(x["before_protection_until"])
               - (judging.now + timedelta(hours=32))) < timedelta(minutes=1)
    assert abs(datetime.fromisoformat(y["after_protection_until"])
               - (judging.now + timedelta(hours=34))) < timedelta(minutes=1)
    # Before the window's start it cannot be replayed.
    early = api.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules/what-if",
                     headers=_as(api, "cm_a"), json={
                         "rules": {}, "days": 1,
                         "effective_from": (judging.now - timedelta(days=2)).isoformat()})
    assert (early.status_code, early.json()["code"]) == (422, "channel_rules_invalid")


def test_a_longer_lead_time_changes_exactly_the_customer_who_came_too_soon(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    body = _what_if(api, cw.project("site-a"), {"lead_time": "PT60M"}).json()
    assert list(_changed(body)) == ["136****0003"]
    z = _changed(body)["136****0003"]
    assert z["customer_id"] == judging.z_customer
    assert (z["owner_before"]["kind"], z["owner_after"]["kind"]) == ("channel", "natural")
    [referral] = z["referrals"]
    assert (referral["after_state"], referral["after"]["code"]) == ("invalid",
                                                                    "lead_time_not_met")
    assert referral["broker_name"] == "broker_a2"


def test_the_rules_in_force_change_nothing_and_nothing_is_stored(
    api: TestClient, cw: ChannelWorld, db: Session, judging: Judging
) -> None:
    before = [(r.id, r.state, r.reason_code, r.decided_at) for r in db.exec(
        select(Referral).order_by(col(Referral.id))).all()]
    for days in (30, 180):
        body = _what_if(api, cw.project("site-a"), {}, days=days).json()
        assert (body["changed"], body["customers"]) == (0, [])
    # 180 days reach OLD too.
    assert body["checked"] == 5
    db.expire_all()
    assert [(r.id, r.state, r.reason_code, r.decided_at) for r in db.exec(
        select(Referral).order_by(col(Referral.id))).all()] == before
    assert db.exec(select(func.count()).select_from(RuleVersion)).one() == 0
    audits = db.exec(select(AuditLog).where(AuditLog.action == "channel.rules_what_if")).all()
    assert [(a.detail["days"], a.detail["changed"], a.detail["checked"]) for a in audits] == [
        (30, 0, 4), (180, 0, 5)]


def test_what_if_refuses_bad_rules_and_windows(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    project = cw.project("site-a")
    bad = _what_if(api, project, {"lead_time": "soon"})
    assert (bad.status_code, bad.json()["code"]) == (422, "channel_rules_invalid")
    assert "lead_time" in bad.json()["detail"]
    assert _what_if(api, project, {"version": 9}).json()["code"] == "channel_rules_invalid"
    # A warning must be shorter than its window (the default warning is one day).
    short = _what_if(api, project, {"referral_protection": {"kind": "duration",
                                                            "length": "PT24H"}})
    assert short.json()["detail"] == "渠道规则不合法：报备保护期的提醒时间必须短于保护期"
    assert _what_if(api, project, {}, days=181).status_code == 422
    assert _what_if(api, project, {}, days=-1).status_code == 422
    assert _what_if(api, project, {}, user="cm_b").status_code == 404
    assert _what_if(api, project, {}, user="agency_a").status_code == 403


def test_the_replay_stops_at_its_limit_and_says_so(
    cw: ChannelWorld, db: Session, settings: CloudSettings, judging: Judging
) -> None:
    user = db.exec(select(User).where(User.username == "cm_a")).one()
    principal = identity_service.load_principal(db, user=user, ip=None)
    answer = whatif.what_if(db, principal=principal, settings=settings,
                            project_id=cw.project("site-a"), as_of=utcnow(), days=30,
                            parameters={"lead_time": "PT60M"}, limit=2)
    # The two most recent: the sales world's visitor (today), then Y (2 h ago); Z's visit
    # (2 h 15 min ago) is left out, so its change is not found.
    assert (answer.checked, answer.limit, answer.truncated, answer.changed) == (2, 2, True, 0)


def test_the_referral_list_filters_by_broker_agency_and_reason(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    def ids(**query: Any) -> list[int]:
        answer = api.get("/api/v1/channel/referrals", headers=_as(api, "cm_a"), params=query)
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()]

    r = judging.referrals
    assert ids(broker_id=cw.brokers["broker_a1"].id) == [r[OLD], r[X]]
    assert ids(agency_id=cw.agencies["B"].id) == [r[Y]]
    assert ids(reason_code="referral_protected", agency_id=cw.agencies["A"].id) == [
        r[OLD], r[Z], r[X]]
    assert ids(reason_code="visit_overdue") == []
    assert api.get("/api/v1/channel/referrals", headers=_as(api, "cm_a"),
                   params={"reason_code": "nonsense"}).status_code == 422
    brokers = api.get("/api/v1/channel/brokers", headers=_as(api, "cm_a")).json()
    assert {b["display_name"] for b in brokers} >= {"broker_a1", "agency_a", "referrer"}


def test_a_masked_referral_that_may_be_two_people_gets_a_timeline_each(
    api: TestClient, cw: ChannelWorld, judging: Judging
) -> None:
    project = cw.project("site-a")
    published = api.post(f"/api/v1/channel/projects/{project}/rules",
                         headers=_as(api, "cm_a"), json={"rules": {"phone_policy": "3+4"}})
    assert published.status_code == 201, published.text
    other = refer(api, _as(api, "broker_b1"), project, "13699990003").json()["id"]
    masked = refer(api, _as(api, "referrer"), project, "136****0003").json()
    assert masked["reason_code"] == "suspected_duplicate"

    timelines = _why(api, project, referral_id=masked["id"]).json()["timelines"]
    assert sorted(t["phone_masked"] for t in timelines) == ["136****0003", "136****0003"]
    referral_sets = sorted(sorted(r["referral_id"] for r in t["referrals"]) for t in timelines)
    assert referral_sets == sorted([sorted([judging.referrals[Z], masked["id"]]),
                                    sorted([other, masked["id"]])])
