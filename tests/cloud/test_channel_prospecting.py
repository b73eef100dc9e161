"""Prospecting tasks (拓客任务): completion counted from the data at Beijing-day
boundaries, who a task is for, ranking and its ties, the broker's own tasks with masked
names, validation and the audit of edits."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel import prospecting
from cloud.channel.models import Agency, Broker, Cooperation, Referral
from cloud.channel.prospecting_models import ProspectingTask
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared.timeutil import shanghai_date, utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.cloud.channel_world import ChannelWorld, add_agency, add_broker
from tests.cloud.migration_drift import drift
from tests.cloud.query_count import statements

URL = "/api/v1/channel/prospecting-tasks"
# November 2025 in Beijing: [2025-10-31 16:00Z, 2025-11-30 16:00Z), a past month (the
# world's brokers, made now, joined after it).
FIRST, LAST = date(2025, 11, 1), date(2025, 11, 30)
OPENS = datetime(2025, 10, 31, 16, 0, tzinfo=UTC)
CLOSES = datetime(2025, 11, 30, 16, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _referral(db: Session, broker: Broker, project_id: int, at: datetime,
              state: str = "confirmed") -> None:
    db.add(Referral(project_id=project_id, broker_id=broker.id or 0,
                    agency_id=broker.agency_id, name_enc="-", phone_masked="138****0000",
                    state=state, reason_code="in_protection" if state == "invalid" else "ok",
                    rule_version=1, idempotency_key=uuid.uuid4().hex, created_at=at,
                    decided_at=at))
    db.commit()


def _visit(db: Session, cw: ChannelWorld, broker: Broker | None, at: datetime) -> None:
    site = cw.sales["site-a"]
    db.add(Visit(id=str(uuid.uuid4()), site_id="site-a", project_id=site.project_id,
                 customer_id=site.customer_id, party_size=1, source="channel",
                 is_first_visit=False, visit_date=shanghai_date(at), occurred_at=at,
                 edge_occurred_at=at, event_seq=1,
                 broker_id=broker.id if broker else None))
    db.commit()


def _invitee(db: Session, settings: CloudSettings, name: str, inviter: Broker,
             at: datetime) -> None:
    invited = add_broker(db, settings, name, agency=None, phone="13799990000")
    invited.invited_by, invited.created_at = inviter.id, at
    db.add(invited)
    db.commit()


def _body(cw: ChannelWorld, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "十一月拓客冲刺", "metric": "referrals", "project_ids": [cw.project("site-a")],
        "start_date": FIRST.isoformat(), "end_date": LAST.isoformat(), "target": 4,
        "assign_mode": "brokers",
        "assignees": [{"id": cw.brokers["broker_a1"].id}, {"id": cw.brokers["broker_a2"].id}]}
    body.update(overrides)
    return body


def _create(api: TestClient, cw: ChannelWorld, who: str = "cm_a", **overrides: Any
            ) -> httpx.Response:
    response: httpx.Response = api.post(URL, headers=signed_in(api, who),
                                        json=_body(cw, **overrides))
    return response


def _counts(answer: dict[str, Any]) -> dict[str, int]:
    return {row["name"]: row["count"] for row in answer["assignees"]}


def _rename(db: Session, broker: Broker, name: str) -> None:
    user = db.get(User, broker.user_id)
    assert user is not None
    user.display_name = name
    db.add(user)
    db.commit()


def test_each_metric_counts_the_facts_inside_the_beijing_days_only(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    a1, a2 = cw.brokers["broker_a1"], cw.brokers["broker_a2"]
    site_a, site_b = cw.project("site-a"), cw.project("site-b")
    for at, state in ((OPENS - SECOND, "confirmed"), (OPENS, "confirmed"),
                      (CLOSES - SECOND, "pending"), (CLOSES, "confirmed"),
                      (OPENS + timedelta(days=3), "invalid")):
        _referral(db, a1, site_a, at, state)
    _referral(db, a1, site_b, OPENS + timedelta(days=1))  # another project
    _referral(db, a2, site_a, OPENS + timedelta(days=2), "expired")
    for at in (OPENS - SECOND, OPENS, CLOSES - SECOND, CLOSES):
        _visit(db, cw, a1, at)
    _visit(db, cw, None, OPENS + timedelta(days=5))  # a natural visit is nobody's
    for n, at in enumerate((OPENS - SECOND, OPENS, CLOSES - SECOND, CLOSES)):
        _invitee(db, settings, f"friend{n}", a1, at)

    expected = {"referrals": (3, 1), "valid_referrals": (2, 1), "visits": (2, 0),
                "invited_brokers": (2, 0)}
    for metric, (of_a1, of_a2) in expected.items():
        created = _create(api, cw, metric=metric)
        assert created.status_code == 201, created.text
        answer = created.json()
        assert _counts(answer) == {"broker_a1": of_a1, "broker_a2": of_a2}, metric
        assert answer["total_count"] == of_a1 + of_a2
        assert answer["starts_at"] == "2025-10-31T16:00:00Z"
        assert answer["ends_at"] == "2025-11-30T16:00:00Z"
        assert (answer["start_date"], answer["end_date"]) == ("2025-11-01", "2025-11-30")

    # By agency: the agency's brokers together; the referrers a1 invited count for A.
    for metric, of_a in (("referrals", 4), ("valid_referrals", 3), ("visits", 2),
                         ("invited_brokers", 2)):
        answer = _create(api, cw, metric=metric, assign_mode="agencies", assignees=[
            {"id": cw.agencies["A"].id}, {"id": cw.agencies["B"].id}]).json()
        assert _counts(answer) == {"渠道A": of_a, "渠道B": 0}, metric


def test_all_cooperating_agencies_or_the_chosen_ones(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    site_a, site_b = cw.project("site-a"), cw.project("site-b")
    creator = cw.agencies["A"].created_by
    make_user(db, "hq_cm", roles=["channel_manager"], scope_all=True)
    add_agency(db, "渠道冻结", created_by=creator, status="frozen")
    add_agency(db, "渠道待审", created_by=creator, status="invited")
    db.add(Cooperation(project_id=site_a, agency_id=cw.agencies["A"].id or 0,
                       added_by=creator))
    db.commit()

    listed = _create(api, cw, assign_mode="cooperating", assignees=[])
    assert listed.status_code == 201, listed.text
    assert [r["name"] for r in listed.json()["assignees"]] == ["渠道A"]
    # A project that lists none is open to every active agency.
    open_ = _create(api, cw, "hq_cm", assign_mode="cooperating", assignees=[],
                    project_ids=[site_b])
    assert [r["name"] for r in open_.json()["assignees"]] == ["渠道A", "渠道B"]

    refused = _create(api, cw, assign_mode="agencies",
                      assignees=[{"id": cw.agencies["B"].id}])
    assert refused.status_code == 422
    assert problem(refused)["code"] == "prospecting_task_invalid"
    assert problem(refused)["detail"] == "渠道公司「渠道B」未与任务的项目合作"
    # A broker of a non-cooperating agency neither; an individual referrer may be.
    assert _create(api, cw, assignees=[{"id": cw.brokers["broker_b1"].id}]).status_code == 422
    assert _create(api, cw, assignees=[{"id": cw.brokers["referrer"].id}]).status_code == 201

    agency_b = db.get(Agency, cw.agencies["B"].id)
    agency_a = db.get(Agency, cw.agencies["A"].id)
    assert agency_a is not None and agency_b is not None
    agency_a.team = agency_b.team = "华东"
    db.add_all([agency_a, agency_b])
    db.commit()
    teams = _create(api, cw, assign_mode="teams", assignees=[], teams=["华东"])
    assert [r["name"] for r in teams.json()["assignees"]] == ["渠道A"]  # B: not cooperating
    unknown = _create(api, cw, assign_mode="teams", assignees=[], teams=["西南"])
    assert problem(unknown)["detail"] == "渠道团队「西南」没有可指派的已激活合作渠道公司"


def test_rates_and_ties_are_ranked_the_same_way_every_time(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    a1, a2 = cw.brokers["broker_a1"], cw.brokers["broker_a2"]
    site_a = cw.project("site-a")
    _referral(db, a1, site_a, OPENS + timedelta(days=1))
    _referral(db, a1, site_a, OPENS + timedelta(days=9))
    _referral(db, a2, site_a, OPENS + timedelta(days=2))
    _referral(db, a2, site_a, OPENS + timedelta(days=3))  # a2 reached 2 first
    answer = _create(api, cw, target=4, assignees=[
        {"id": cw.brokers["referrer"].id}, {"id": a1.id, "target": 2}, {"id": a2.id}]).json()

    board = [(r["rank"], r["name"], r["count"], r["rate"]) for r in answer["leaderboard"]]
    assert board == [(1, "broker_a2", 2, 0.5), (2, "broker_a1", 2, 1.0),
                     (3, "referrer", 0, 0.0)]
    assert (answer["total_count"], answer["total_target"], answer["rate"]) == (4, 10, 0.4)
    # The assignee table keeps the order they were chosen in.
    assert [r["name"] for r in answer["assignees"]] == ["referrer", "broker_a1", "broker_a2"]
    again = api.get(f"{URL}/{answer['id']}", headers=signed_in(api, "hqadmin")).json()
    assert again["leaderboard"] == answer["leaderboard"]

    # Equal counts reached at the same instant: the earlier assignee row ranks first.
    _referral(db, a1, site_a, OPENS + timedelta(days=20))
    _referral(db, a2, site_a, OPENS + timedelta(days=20))
    tied = _create(api, cw, assignees=[{"id": a2.id}, {"id": a1.id}]).json()
    assert [(r["rank"], r["name"]) for r in tied["leaderboard"]] == [
        (1, "broker_a2"), (2, "broker_a1")]


def test_the_list_counts_any_number_of_tasks_in_a_few_queries(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    _referral(db, cw.brokers["broker_a1"], cw.project("site-a"), OPENS + timedelta(days=1))
    everyone = [{"id": b.id} for b in cw.brokers.values()]
    for metric in ("referrals", "referrals", "referrals", "valid_referrals", "visits",
                   "invited_brokers"):
        assert _create(api, cw, metric=metric, assignees=everyone).status_code == 201
    cm = db.exec(select(User).where(User.username == "cm_a")).one()
    principal = Principal(user_id=cm.id or 0, username="cm_a", display_name="cm_a",
                          roles=frozenset({"channel_manager"}), site_ids=frozenset({"site-a"}),
                          permissions=frozenset(), ip=None)
    tasks = prospecting.list_tasks(db, principal=principal, project_id=None, status=None,
                                   metric=None)
    assert [t.metric for t in tasks][3:] == ["referrals"] * 3  # newest first
    bind = db.get_bind()
    with statements(bind) as one:  # type: ignore[arg-type]
        prospecting.outs(db, tasks[3:4])
    with statements(bind) as three:  # type: ignore[arg-type]
        prospecting.outs(db, tasks[3:])
    with statements(bind) as six:  # type: ignore[arg-type]
        outs = prospecting.outs(db, tasks)
    assert [o.total_count for o in outs] == [0, 0, 1, 1, 1, 1]
    # One GROUP BY per metric and level, whatever the number of tasks and assignees.
    assert len(three) == len(one)
    assert len(six) == len(one) + 3 * 2


def test_a_broker_sees_only_the_tasks_assigned_to_them_with_others_masked(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    a1, a2 = cw.brokers["broker_a1"], cw.brokers["broker_a2"]
    _rename(db, a1, "张三丰")
    _rename(db, a2, "李四")
    _referral(db, a2, cw.project("site-a"), utcnow() - timedelta(minutes=5))
    today = shanghai_date(utcnow())
    period = {"start_date": today.isoformat(), "end_date": (today + timedelta(days=6))
              .isoformat()}
    ids: dict[str, int] = {}
    for key, extra in (
        ("mine", {"assignees": [{"id": a1.id}, {"id": a2.id}]}),
        ("agency_b", {"assign_mode": "agencies", "assignees": [{"id": cw.agencies["B"].id}]}),
        ("agency_a", {"assign_mode": "agencies",
                      "assignees": [{"id": cw.agencies["A"].id}, {"id": cw.agencies["B"].id}]}),
        ("draft", {"assignees": [{"id": a1.id}]}),
    ):
        created = _create(api, cw, **period, **extra)
        assert created.status_code == 201, created.text
        ids[key] = created.json()["id"]
        if key != "draft":
            published = api.patch(f"{URL}/{ids[key]}", headers=signed_in(api, "cm_a"),
                                  json={"status": "published"})
            assert published.status_code == 200, published.text

    me = signed_in(api, "broker_a1")
    mine = api.get("/api/v1/channel/broker/tasks", headers=me).json()
    assert sorted(t["id"] for t in mine) == sorted([ids["mine"], ids["agency_a"]])
    own = next(t for t in mine if t["id"] == ids["mine"])
    assert (own["level"], own["count"], own["target"], own["rank"], own["ranked"]) == (
        "broker", 0, 4, 2, 2)
    by_agency = next(t for t in mine if t["id"] == ids["agency_a"])
    assert (by_agency["level"], by_agency["count"], by_agency["my_count"],
            by_agency["rank"]) == ("agency", 1, 0, 1)

    board = api.get(f"/api/v1/channel/broker/tasks/{ids['mine']}", headers=me).json()
    assert [(r["name"], r["mine"]) for r in board["leaderboard"]] == [
        ("李**", False), ("张三丰", True)]
    agencies = api.get(f"/api/v1/channel/broker/tasks/{ids['agency_a']}", headers=me).json()
    assert [(r["name"], r["mine"]) for r in agencies["leaderboard"]] == [
        ("渠道A", True), ("渠道B", False)]
    # Not theirs, or not published: not found.
    for hidden in (ids["agency_b"], ids["draft"]):
        missing = api.get(f"/api/v1/channel/broker/tasks/{hidden}", headers=me)
        assert problem(missing)["code"] == "prospecting_task_not_found"
    other = api.get("/api/v1/channel/broker/tasks", headers=signed_in(api, "broker_b1")).json()
    assert sorted(t["id"] for t in other) == sorted([ids["agency_b"], ids["agency_a"]])


def test_bad_tasks_are_refused_with_stable_codes_and_chinese_messages(
    api: TestClient, cw: ChannelWorld
) -> None:
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"end_date": "2025-10-31"}, 422, "prospecting_task_invalid", "结束日期不能早于开始日期"),
        ({"end_date": "2026-12-31"}, 422, "prospecting_task_invalid", "任务周期最长 366 天"),
        ({"assignees": []}, 422, "prospecting_task_invalid", "请至少选择一个经纪人"),
        ({"assignees": [{"id": cw.brokers["broker_a1"].id}] * 2}, 422,
         "prospecting_task_invalid", "指派对象不能重复"),
        ({"assign_mode": "teams", "assignees": []}, 422, "prospecting_task_invalid",
         "请至少选择一个渠道团队"),
        ({"project_ids": [cw.project("site-b")]}, 404, "project_not_found", "项目不存在"),
        ({"assignees": [{"id": 999_999}]}, 404, "broker_not_found", "经纪人不存在"),
        ({"campaign_id": 999_999}, 404, "campaign_not_found", "渠道活动不存在"),
        ({"target": 0}, 422, "validation_failed", "输入数据不合法"),
        ({"metric": "deals"}, 422, "validation_failed", "输入数据不合法"),
    ]
    for change, status, code, detail in cases:
        answer = _create(api, cw, **change)
        assert (answer.status_code, problem(answer)["code"], problem(answer)["detail"]) == (
            status, code, detail), change
        assert answer.headers["content-type"] == "application/problem+json"
    assert _create(api, cw, "broker_a1").status_code == 403
    assert _create(api, cw, "hqadmin").status_code == 403  # HQ reads, the manager acts


def test_edits_after_publishing_are_limited_and_audited(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    today = shanghai_date(utcnow())
    task = _create(api, cw, start_date=today.isoformat(),
                   end_date=(today + timedelta(days=9)).isoformat()).json()
    url, cm = f"{URL}/{task['id']}", signed_in(api, "cm_a")
    # A draft may change anything, the assignees resolved again.
    edited = api.patch(url, headers=cm, json={"metric": "visits", "assignees": [
        {"id": cw.brokers["broker_a1"].id, "target": 9}]}).json()
    assert [(r["name"], r["target"]) for r in edited["assignees"]] == [("broker_a1", 9)]
    assert api.patch(url, headers=cm, json={"status": "published"}).json()[
        "status"] == "published"

    frozen = api.patch(url, headers=cm, json={"metric": "referrals"})
    assert problem(frozen)["detail"] == "任务发布后不能修改考核指标、项目和开始日期"
    assert problem(frozen)["field"] == "metric"
    # Another manager's sites: not revealed.
    assert api.patch(url, headers=signed_in(api, "cm_b"), json={"title": "x"}).status_code == 404

    later = (today + timedelta(days=20)).isoformat()
    moved = api.patch(url, headers=cm, json={"target": 6, "end_date": later})
    assert moved.status_code == 200, moved.text
    # The broker's own target stays; the default moved.
    assert [(r["target"]) for r in moved.json()["assignees"]] == [9]
    [update] = [r for r in audit_rows(db, "channel.task_update") if r.detail["published"]]
    assert update.detail["changed"] == ["end_date", "target"]
    assert update.detail["before"]["target"] == 4 and update.detail["after"]["target"] == 6
    assert update.detail["after"]["end_date"] == later

    assert api.patch(url, headers=cm, json={"status": "closed"}).json()["status"] == "closed"
    locked = api.patch(url, headers=cm, json={"title": "再改"})
    assert (locked.status_code, problem(locked)["code"]) == (409, "prospecting_task_locked")
    assert [len(audit_rows(db, f"channel.task_{a}")) for a in
            ("create", "publish", "close")] == [1, 1, 1]
    row = db.get(ProspectingTask, task["id"])
    assert row is not None and row.closed_at is not None

    stale = _create(api, cw).json()  # November 2025: over
    late = api.patch(f"{URL}/{stale['id']}", headers=cm, json={"status": "published"})
    assert problem(late)["detail"] == "任务已过结束日期，不能发布"
    cancelled = api.patch(f"{URL}/{stale['id']}", headers=cm, json={"status": "cancelled"})
    assert cancelled.json()["status"] == "cancelled"
    again = api.patch(f"{URL}/{stale['id']}", headers=cm, json={"status": "published"})
    assert problem(again)["code"] == "prospecting_task_locked"


def test_a_campaign_must_share_a_project(api: TestClient, cw: ChannelWorld, db: Session
                                         ) -> None:
    make_user(db, "hq_cm", roles=["channel_manager"], scope_all=True)
    hq = signed_in(api, "hq_cm")
    now = utcnow()
    campaign = api.post("/api/v1/channel/campaigns", headers=hq, json={
        "title": "双十一", "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=5)).isoformat(),
        "project_ids": [cw.project("site-b")]}).json()
    apart = _create(api, cw, "hq_cm", campaign_id=campaign["id"])
    assert problem(apart)["detail"] == "关联的渠道活动与任务没有共同的项目"
    linked = _create(api, cw, "hq_cm", campaign_id=campaign["id"],
                     project_ids=[cw.project("site-a"), cw.project("site-b")])
    assert linked.status_code == 201 and linked.json()["campaign_id"] == campaign["id"]
    # cm_a sees the task (one project is theirs) but may not change it.
    assert api.get(f"{URL}/{linked.json()['id']}", headers=signed_in(api, "cm_a")
                   ).status_code == 200
    outside = api.patch(f"{URL}/{linked.json()['id']}", headers=signed_in(api, "cm_a"),
                        json={"title": "改"})
    assert problem(outside)["code"] == "prospecting_task_outside_scope"


def test_the_migration_builds_the_tables_as_the_models_declare(engine: Engine) -> None:
    assert drift(engine, {"channel_prospecting_task", "channel_prospecting_task_project",
                          "channel_prospecting_assignee"}) == []
