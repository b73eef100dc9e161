"""The broker H5's routes, project profiles and campaigns against real PostgreSQL: filters,
the rules in force, scopes (a broker never sees another's customers; staff outside a
project's sites get 404 or an empty list), the campaign lifecycle and its audit."""

from __future__ import annotations

import uuid
from datetime import time, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel.portal import summary
from cloud.channel.rules import defaults
from cloud.settings import CloudSettings
from shared.attribution.rules import ClockWindow
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, add_broker, refer
from tests.cloud.sales_world import PHONE_A, apply, envelope

URL = "/api/v1/channel"


def _profile(client: TestClient, who: str, project_id: int, **body: Any) -> httpx.Response:
    response: httpx.Response = client.put(f"{URL}/projects/{project_id}/profile",
                                          headers=signed_in(client, who), json=body)
    return response


def _campaign(client: TestClient, who: str, project_ids: list[int], *, title: str = "双十一冲刺",
              days: int = 10, publish: bool = False) -> dict[str, Any]:
    now = utcnow()
    headers = signed_in(client, who)
    made = client.post(f"{URL}/campaigns", headers=headers, json={
        "title": title, "requirements": "带看 3 组", "rewards": "每组奖励 500 元",
        "announcement": "本周末加推", "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=days)).isoformat(), "project_ids": project_ids})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    if publish:
        done = client.patch(f"{URL}/campaigns/{body['id']}", headers=headers,
                            json={"status": "published"})
        assert done.status_code == 200, done.text
        body = done.json()
    return body


def _actions(db: Session, action: str) -> list[AuditLog]:
    db.rollback()
    return list(db.exec(select(AuditLog).where(AuditLog.action == action)
                        .order_by(col(AuditLog.id))).all())


def test_a_channel_manager_edits_the_profile_of_their_projects_only(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    a, b = cw.project("site-a"), cw.project("site-b")
    blank = api.get(f"{URL}/projects/{a}/profile", headers=signed_in(api, "cm_a"))
    assert blank.status_code == 200 and blank.json()["updated_at"] is None
    saved = _profile(api, "cm_a", a, district="浦东新区", price_min_yuan=3_000_000,
                     price_max_yuan=5_000_000, layouts=["三室两厅", "四室两厅"],
                     cooperation="成交后 30 天内结佣，佣金 1.5%")
    assert saved.status_code == 200, saved.text
    assert saved.json()["layouts"] == ["三室两厅", "四室两厅"]
    again = api.get(f"{URL}/projects/{a}/profile", headers=signed_in(api, "cm_a")).json()
    assert again["cooperation"] == "成交后 30 天内结佣，佣金 1.5%"
    [row] = _actions(db, "channel.profile_update")
    assert row.object_id == str(a) and "cooperation" in row.detail["changed"]

    outside = _profile(api, "cm_a", b, district="静安区")
    assert outside.status_code == 404 and outside.json()["code"] == "project_not_found"
    assert api.get(f"{URL}/projects/{b}/profile",
                   headers=signed_in(api, "cm_a")).status_code == 404
    inverted = _profile(api, "cm_a", a, price_min_yuan=5, price_max_yuan=4)
    assert inverted.status_code == 422
    assert _profile(api, "broker_a1", a, district="x").status_code == 403


def test_broker_projects_filter_by_district_price_band_and_layout(
    api: TestClient, cw: ChannelWorld
) -> None:
    a, b = cw.project("site-a"), cw.project("site-b")
    assert _profile(api, "cm_a", a, district="浦东新区", price_min_yuan=3_000_000,
                    price_max_yuan=5_000_000, layouts=["三室两厅"]).status_code == 200
    assert _profile(api, "cm_b", b, district="静安区", price_min_yuan=8_000_000,
                    price_max_yuan=12_000_000, layouts=["四室两厅"]).status_code == 200
    headers = signed_in(api, "broker_a1")

    def ids(**query: Any) -> list[int]:
        found = api.get(f"{URL}/broker/projects", headers=headers, params=query)
        assert found.status_code == 200, found.text
        return [p["id"] for p in found.json()]

    assert ids() == [a, b]
    assert ids(district="浦东新区") == [a]
    assert ids(price_min=4_000_000, price_max=6_000_000) == [a]  # overlaps 300–500 万
    assert ids(price_min=5_000_001) == [b]
    assert ids(price_max=2_999_999) == []
    assert ids(layout="四室两厅") == [b]
    assert ids(district="浦东新区", layout="四室两厅") == []
    assert api.get(f"{URL}/broker/projects", headers=headers,
                   params={"price_min": -1}).status_code == 422


def test_broker_projects_show_the_rules_in_force_and_the_latest_campaigns(
    api: TestClient, cw: ChannelWorld
) -> None:
    a = cw.project("site-a")
    published = api.post(f"{URL}/projects/{a}/rules", headers=signed_in(api, "cm_a"), json={
        "rules": {"phone_policy": "3+4", "referral_protection": {"kind": "duration",
                                                                  "length": "PT48H"}}})
    assert published.status_code == 201, published.text
    later = api.post(f"{URL}/projects/{a}/rules", headers=signed_in(api, "cm_a"), json={
        "effective_from": (utcnow() + timedelta(days=3)).isoformat(),
        "rules": {"phone_policy": "full"}})
    assert later.status_code == 201, later.text
    for n in range(4):
        _campaign(api, "cm_a", [a], title=f"活动{n}", publish=True)
    _campaign(api, "cm_a", [a], title="草稿活动")
    ended = _campaign(api, "cm_a", [a], title="已结束", publish=True)
    assert api.patch(f"{URL}/campaigns/{ended['id']}", headers=signed_in(api, "cm_a"),
                     json={"status": "ended"}).status_code == 200

    [project] = [p for p in api.get(f"{URL}/broker/projects",
                                    headers=signed_in(api, "broker_a1")).json()
                 if p["id"] == a]
    rules = project["rules"]
    assert (rules["version"], rules["phone_policy"]) == (2, "3+4")  # v3 is not in force yet
    assert rules["referral_protection_hours"] == 48
    assert rules["lead_time_minutes"] == 30 and rules["visit_protection_days"] == 30
    assert [c["title"] for c in project["campaigns"]] == ["活动3", "活动2", "活动1"]

    everything = api.get(f"{URL}/broker/campaigns", headers=signed_in(api, "broker_a1"))
    assert [c["title"] for c in everything.json()] == ["活动3", "活动2", "活动1", "活动0"]


def test_campaign_lifecycle_scope_and_audit(api: TestClient, cw: ChannelWorld,
                                            db: Session) -> None:
    a, b = cw.project("site-a"), cw.project("site-b")
    mine = _campaign(api, "cm_a", [a])
    assert mine["status"] == "draft" and mine["project_ids"] == [a]
    cm_a, cm_b = signed_in(api, "cm_a"), signed_in(api, "cm_b")
    assert api.get(f"{URL}/campaigns", headers=cm_b).json() == []
    assert api.get(f"{URL}/campaigns/{mine['id']}", headers=cm_b).status_code == 404
    refused = api.patch(f"{URL}/campaigns/{mine['id']}", headers=cm_b, json={"title": "改"})
    assert refused.status_code == 404 and refused.json()["code"] == "campaign_not_found"
    elsewhere = api.post(f"{URL}/campaigns", headers=cm_a, json={
        "title": "越权", "starts_at": utcnow().isoformat(),
        "ends_at": (utcnow() + timedelta(days=1)).isoformat(), "project_ids": [b]})
    assert elsewhere.status_code == 404
    backwards = api.post(f"{URL}/campaigns", headers=cm_a, json={
        "title": "倒序", "starts_at": utcnow().isoformat(),
        "ends_at": (utcnow() - timedelta(days=1)).isoformat(), "project_ids": [a]})
    assert backwards.status_code == 422 and backwards.json()["code"] == "campaign_invalid"

    # A draft is not shown to brokers; publishing is audited.
    assert api.get(f"{URL}/broker/campaigns", headers=signed_in(api, "broker_b1")).json() == []
    published = api.patch(f"{URL}/campaigns/{mine['id']}", headers=cm_a,
                          json={"status": "published", "rewards": "每组 800 元"})
    assert published.status_code == 200, published.text
    assert published.json()["published_at"] is not None
    [row] = _actions(db, "channel.campaign_publish")
    assert row.object_id == str(mine["id"]) and "rewards" in row.detail["changed"]
    shown = api.get(f"{URL}/broker/campaigns", headers=signed_in(api, "broker_b1")).json()
    assert [(c["id"], c["rewards"]) for c in shown] == [(mine["id"], "每组 800 元")]
    back = api.patch(f"{URL}/campaigns/{mine['id']}", headers=cm_a, json={"status": "ended"})
    assert back.status_code == 200
    assert _actions(db, "channel.campaign_end")
    frozen = api.patch(f"{URL}/campaigns/{mine['id']}", headers=cm_a, json={"title": "再改"})
    assert frozen.status_code == 409
    assert api.get(f"{URL}/broker/campaigns", headers=signed_in(api, "broker_b1")).json() == []

    # HQ's campaign on both sites: site A's manager sees it but may not change it.
    both = _campaign(api, "hqadmin", [a, b])
    assert both["id"] in {c["id"] for c in api.get(f"{URL}/campaigns", headers=cm_a).json()}
    partial = api.patch(f"{URL}/campaigns/{both['id']}", headers=cm_a, json={"title": "改"})
    assert partial.status_code == 403 and partial.json()["code"] == "campaign_outside_scope"
    filtered = api.get(f"{URL}/campaigns", headers=cm_a, params={"status": "draft"}).json()
    assert [c["id"] for c in filtered] == [both["id"]]


def test_a_broker_sees_only_their_own_customers_with_visits(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    a = cw.project("site-a")
    mine = refer(api, signed_in(api, "broker_a1"), a, "13512345678", name="陈大文")
    assert mine.status_code == 201 and mine.json()["state"] == "confirmed", mine.text
    theirs = refer(api, signed_in(api, "broker_a2"), a, "13612345678", name="李四")
    assert theirs.status_code == 201
    refused = refer(api, signed_in(api, "broker_a1"), a, PHONE_A, name="王五")
    assert refused.json()["state"] == "invalid"
    # The referred customer comes to the office afterwards; so does site A's own customer.
    site = cw.sales["site-a"]
    for phone in ("13512345678", PHONE_A):
        apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                                VISIT_REGISTERED, {
            "visit_id": str(uuid.uuid4()), "project_id": a, "phone": phone,
            "party_size": 2, "consultant_id": cw.sales["consult_a"]})])

    listed = api.get(f"{URL}/broker/customers", headers=signed_in(api, "broker_a1"))
    assert listed.status_code == 200, listed.text
    rows = {r["phone_masked"]: r for r in listed.json()}
    assert set(rows) == {"135****5678", "138****0001"}  # never broker_a2's customer
    assert rows["135****5678"]["customer_name"] == "陈**"
    assert rows["135****5678"]["project_name"] == "site-a 项目"
    assert len(rows["135****5678"]["visits"]) == 1
    invalid = rows["138****0001"]
    assert invalid["reason"] and invalid["reason_code"] != "confirmed"
    assert invalid["visits"] == []  # someone else's customer: their visits stay hidden
    only = api.get(f"{URL}/broker/customers", headers=signed_in(api, "broker_a1"),
                   params={"state": "invalid"}).json()
    assert [r["phone_masked"] for r in only] == ["138****0001"]
    assert api.get(f"{URL}/broker/customers", headers=signed_in(api, "broker_a1"),
                   params={"state": "lost"}).status_code == 422
    other = api.get(f"{URL}/broker/customers", headers=signed_in(api, "broker_a2")).json()
    assert [r["phone_masked"] for r in other] == ["136****5678"]


def test_a_pending_broker_sees_their_state_and_no_projects(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    add_broker(db, settings, "newbie", agency=cw.agencies["A"], status="pending",
               phone="13711112222")
    headers = signed_in(api, "newbie")
    me = api.get(f"{URL}/broker/me", headers=headers).json()
    assert (me["status"], me["can_refer"], me["agency_name"]) == ("pending", False, "渠道A")
    assert me["phone_masked"] == "137****2222"
    blocked = api.get(f"{URL}/broker/projects", headers=headers)
    assert blocked.status_code == 403 and blocked.json()["code"] == "broker_inactive"
    assert api.get(f"{URL}/broker/customers", headers=headers).json() == []
    active = api.get(f"{URL}/broker/me", headers=signed_in(api, "broker_a1")).json()
    assert active["can_refer"] is True and active["kind"] == "agency"
    assert api.get(f"{URL}/broker/me", headers=signed_in(api, "cm_a")).status_code == 403


def test_hostile_and_malformed_input_is_refused_with_codes(api: TestClient,
                                                           cw: ChannelWorld) -> None:
    a = cw.project("site-a")
    for body in ({"layouts": [f"户型{n}" for n in range(13)]},
                 {"layouts": ["三室", "三室"]},
                 {"layouts": ["长" * 21]},
                 {"price_min_yuan": 2**31},
                 {"cooperation": "条" * 2001},
                 {"district": "区", "owner": "x"}):
        refused = _profile(api, "cm_a", a, **body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["code"], body
    cm_a = signed_in(api, "cm_a")
    missing = api.post(f"{URL}/campaigns", headers=cm_a, json={
        "title": "无此项目", "starts_at": utcnow().isoformat(),
        "ends_at": (utcnow() + timedelta(days=1)).isoformat(), "project_ids": [999_999]})
    assert missing.status_code == 404 and missing.json()["code"] == "project_not_found"
    assert api.post(f"{URL}/campaigns", headers=cm_a, json={
        "title": "题" * 101, "starts_at": utcnow().isoformat(),
        "ends_at": (utcnow() + timedelta(days=1)).isoformat(),
        "project_ids": [a]}).status_code == 422
    # A filter is a value, never SQL; staff routes stay closed to brokers.
    broker = signed_in(api, "broker_a1")
    injected = api.get(f"{URL}/broker/projects", headers=broker,
                       params={"district": "' OR '1'='1", "layout": "'; DROP TABLE x; --"})
    assert injected.status_code == 200 and injected.json() == []
    assert api.get(f"{URL}/campaigns", headers=broker).status_code == 403
    assert api.get(f"{URL}/projects/{a}/profile", headers=broker).status_code == 403


def test_moving_a_campaign_to_other_projects_keeps_it_in_scope(
    api: TestClient, cw: ChannelWorld
) -> None:
    a, b = cw.project("site-a"), cw.project("site-b")
    both = _campaign(api, "hqadmin", [a])
    moved = api.patch(f"{URL}/campaigns/{both['id']}", headers=signed_in(api, "hqadmin"),
                      json={"project_ids": [b, b]})
    assert moved.status_code == 200 and moved.json()["project_ids"] == [b]
    assert api.get(f"{URL}/campaigns/{both['id']}",
                   headers=signed_in(api, "cm_a")).status_code == 404
    taken = api.patch(f"{URL}/campaigns/{both['id']}", headers=signed_in(api, "cm_b"),
                      json={"project_ids": [a]})
    assert taken.status_code == 404  # cm_b may not move it onto site A's project


def test_a_fixed_clock_window_is_told_as_a_time_of_day() -> None:
    rules = defaults(1).model_copy(update={
        "referral_protection": ClockWindow(until=time(23, 59), days=0)})
    told = summary(rules)
    assert told.referral_protection_hours is None
    assert told.referral_protection_text == "报备当天 23:59 前到访"
    later = summary(rules.model_copy(update={
        "referral_protection": ClockWindow(until=time(18, 0), days=2)}))
    assert later.referral_protection_text == "报备后第 2 天 18:00 前到访"
    assert summary(defaults(1)).referral_protection_hours == 72


def test_a_masked_referral_is_listed_without_visits(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    a = cw.project("site-a")
    assert api.post(f"{URL}/projects/{a}/rules", headers=signed_in(api, "cm_a"),
                    json={"rules": {"phone_policy": "3+4"}}).status_code == 201
    masked = refer(api, signed_in(api, "broker_a1"), a, "135****9999", name="周")
    assert masked.status_code == 201, masked.text
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": str(uuid.uuid4()), "project_id": a, "phone": "13500009999",
        "party_size": 1, "consultant_id": cw.sales["consult_a"]})])
    [row] = api.get(f"{URL}/broker/customers", headers=signed_in(api, "broker_a1")).json()
    assert row["phone_masked"] == "135****9999" and row["visits"] == []
