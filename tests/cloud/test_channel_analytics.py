"""渠道业绩 and 多维查询 on real PostgreSQL (and the same queries on the demo's SQLite):
counts of a hand-built data set (tests/cloud/analytics_world.py), Beijing-day buckets,
rankings with ties, the whitelist's refusals, scopes and the Excel export."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.channel import analytics, analytics_reports
from cloud.identity.principal import Principal
from cloud.main import create_app
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.analytics_world import FROM, TO, World, build
from tests.cloud.migration_drift import drift
from tests.conftest import make_settings

RANGE = {"date_from": FROM.isoformat(), "date_to": TO.isoformat()}


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> World:
    return build(db, settings)


@pytest.fixture
def api(settings: CloudSettings, world: World) -> Iterator[TestClient]:
    roomy = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        yield client


def _get(api: TestClient, user: str, path: str, **params: Any) -> Any:
    response = api.get(f"/api/v1/channel/analytics/{path}", headers=signed_in(api, user),
                       params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def _query(api: TestClient, user: str, body: dict[str, Any], path: str = "query") -> Any:
    body = {**body, "filters": {**RANGE, **body.get("filters", {})}}
    return api.post(f"/api/v1/channel/analytics/{path}", headers=signed_in(api, user),
                    json=body)


def _stages(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["referrals"], row["valid"], row["visited"], row["attributed"],
            row["subscribed"], row["conversion_rate"])


# -- funnel and trend ----------------------------------------------------------------------

def test_funnel_counts_refused_valid_visited_and_attributed_per_channel_group(
        api: TestClient, world: World) -> None:
    found = _get(api, "hqall", "performance")

    # 8 in range (9 is 10-31 in Beijing): 2 and 5 refused; 1, 3, 6 visited and owned.
    assert _stages(found["total"]) == (8, 6, 3, 3, None, 0.375)
    assert found["needs"] == ["deals"]
    groups = [(g["key"], g["label"], _stages(g)) for g in found["items"]]
    assert groups == [
        (f"agency:{world.agencies['A']}", "渠道A", (3, 2, 2, 2, None, 0.6667)),
        ("team:东区", "团队：东区", (3, 2, 0, 0, None, 0.0)),
        ("individual", "全民营销（个人经纪人）", (2, 2, 1, 1, None, 0.5)),
    ]


def test_funnel_by_agency_team_and_kind(api: TestClient, world: World) -> None:
    by_agency = _get(api, "hqall", "performance", group="agency")["items"]
    assert [(g["key"], g["referrals"]) for g in by_agency] == [
        (world.agencies["A"], 3), (world.agencies["B"], 3), (None, 2)]
    by_team = _get(api, "hqall", "performance", group="team")["items"]
    assert [(g["label"], g["referrals"]) for g in by_team] == [("未分团队", 5), ("东区", 3)]
    by_kind = _get(api, "hqall", "performance", group="channel_kind")["items"]
    assert [(g["key"], g["referrals"], g["attributed"]) for g in by_kind] == [
        ("agency", 6, 2), ("individual", 2, 1)]


def test_trend_buckets_are_beijing_days_weeks_and_months(api: TestClient) -> None:
    days = {p["bucket"]: p["referrals"]
            for p in _get(api, "hqall", "performance", granularity="day")["trend"]}
    # 15:59:59 UTC is 23:59:59 in Beijing, 16:00 UTC the next day.
    assert {d: n for d, n in days.items() if n} == {
        "2026-11-01": 2, "2026-11-02": 3, "2026-11-03": 2, "2026-12-01": 1}
    assert len(days) == 31 and days["2026-11-15"] == 0
    weeks = [(p["bucket"], p["referrals"])
             for p in _get(api, "hqall", "performance", granularity="week")["trend"]]
    # 11-01 is a Sunday: its week starts on Monday 10-26.
    assert weeks == [("2026-10-26", 2), ("2026-11-02", 5), ("2026-11-09", 0),
                     ("2026-11-16", 0), ("2026-11-23", 0), ("2026-11-30", 1)]
    months = [(p["bucket"], p["referrals"], p["subscribed"])
              for p in _get(api, "hqall", "performance", granularity="month")["trend"]]
    assert months == [("2026-11", 7, None), ("2026-12", 1, None)]


def test_project_filter_narrows_the_funnel(api: TestClient, world: World) -> None:
    found = _get(api, "hqall", "performance", project_id=world.projects["b"])
    assert _stages(found["total"])[:4] == (1, 1, 0, 0)


# -- rankings ------------------------------------------------------------------------------

def _ranks(api: TestClient, **params: Any) -> list[tuple[int, str, Any]]:
    found = _get(api, "hqall", "rankings", **params)
    by = found["by"]
    return [(r["rank"], r["label"], r[by]) for r in found["items"]]


def test_rankings_share_ranks_on_ties_and_list_them_by_id(api: TestClient) -> None:
    assert _ranks(api, subject="agency") == [(1, "渠道A", 3), (1, "渠道B", 3)]
    assert _ranks(api, subject="broker") == [
        (1, "bb1名", 3), (2, "ba1名", 2), (2, "referrer名", 2), (4, "ba2名", 1)]
    assert _ranks(api, subject="broker", by="visited") == [
        (1, "ba1名", 1), (1, "ba2名", 1), (1, "referrer名", 1), (4, "bb1名", 0)]
    assert _ranks(api, subject="broker", limit=2) == [(1, "bb1名", 3), (2, "ba1名", 2)]


def test_consultant_ranking_counts_who_received_the_referred_customer(
        api: TestClient) -> None:
    # consult_a: the QR visit of 3 and the first visit of 6's customer after the
    # referral; consult_a2: the visit of 1 and 2's number (6's earlier visit is not).
    assert _ranks(api, subject="consultant") == [
        (1, "consult_a名", 2), (1, "consult_a2名", 2)]
    assert _ranks(api, subject="consultant", by="conversion_rate") == [
        (1, "consult_a名", 1.0), (2, "consult_a2名", 0.5)]


# -- 多维查询 -------------------------------------------------------------------------------

def test_query_groups_on_three_dimensions_sorts_and_pages(api: TestClient,
                                                          world: World) -> None:
    response = _query(api, "hqall", {
        "dimensions": ["agency", "state"], "measures": ["referrals", "distinct_customers"],
        "sort": [{"by": "referrals", "desc": True}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["title"] for c in body["columns"]] == ["渠道公司", "报备状态", "报备数", "客户数"]
    rows = [(r["agency_label"], r["state_label"], r["referrals"], r["distinct_customers"])
            for r in body["items"]]
    assert rows == [
        # 1 and 3 are two customers (a full number, a mask); then ties by the keys.
        ("渠道A", "有效", 2, 2), ("渠道A", "无效", 1, 1),
        ("渠道B", "有效", 1, 1), ("渠道B", "已失效", 1, 1), ("渠道B", "无效", 1, 1),
        ("全民营销（个人经纪人）", "有效", 1, 1), ("全民营销（个人经纪人）", "待确认", 1, 1)]
    assert body["total"] == 7
    paged = _query(api, "hqall", {"dimensions": ["day", "customer_group", "project"],
                               "measures": ["referrals"], "page": 2, "page_size": 2}).json()
    assert paged["total"] == 6
    assert [(r["day"], r["customer_group_label"], r["project_label"], r["referrals"])
            for r in paged["items"]] == [("2026-11-02", "个人客户", "项目A", 2),
                                         ("2026-11-02", "个人客户", "项目B", 1)]
    total = _query(api, "hqall", {"measures": ["referrals", "distinct_customers", "refused",
                                            "confirmed", "conversion_rate"]}).json()
    # 1 and 2 are one customer at A: 7 customers behind 8 referrals.
    assert total["items"] == [{"referrals": 8, "distinct_customers": 7, "refused": 2,
                               "confirmed": 4, "conversion_rate": 0.375}]


def test_query_filters(api: TestClient, world: World) -> None:
    body = _query(api, "hqall", {
        "dimensions": ["reason_code"], "measures": ["referrals"],
        "filters": {"states": ["invalid"], "channel_kinds": ["agency"],
                    "consultant_ids": [world.users["consult_a2"]]}}).json()
    assert [(r["reason_code_label"], r["referrals"]) for r in body["items"]] == [
        ("已被其他渠道报备", 1)]
    teams = _query(api, "hqall", {"dimensions": ["broker"], "measures": ["referrals"],
                               "filters": {"teams": ["东区"],
                                           "project_ids": [world.projects["a"]]}}).json()
    assert [(r["broker_label"], r["referrals"]) for r in teams["items"]] == [("bb1名", 2)]


@pytest.mark.parametrize(("body", "code"), [
    ({"dimensions": ["password"], "measures": ["referrals"]}, "analytics_dimension_unknown"),
    ({"dimensions": ["project; DROP TABLE channel_referral"], "measures": ["referrals"]},
     "analytics_dimension_unknown"),
    ({"dimensions": ["project"], "measures": ["sum(id)"]}, "analytics_measure_unknown"),
    ({"dimensions": ["project", "agency", "state", "day"], "measures": ["referrals"]},
     "analytics_query_invalid"),
    ({"dimensions": ["project", "project"], "measures": ["referrals"]},
     "analytics_query_invalid"),
    ({"dimensions": ["project"], "measures": ["referrals"],
      "sort": [{"by": "agency"}]}, "analytics_sort_invalid"),
    ({"measures": ["referrals"], "filters": {"date_from": "2026-12-02"}},
     "analytics_range_invalid"),
    ({"measures": ["referrals"], "filters": {"phone": "13800000001"}}, "validation_failed"),
    ({"measures": ["referrals"], "filters": {"states": ["hacked"]}}, "validation_failed"),
])
def test_query_refuses_what_the_whitelist_does_not_name(
        api: TestClient, body: dict[str, Any], code: str) -> None:
    response = _query(api, "hqall", body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])


def test_export_is_the_query_as_a_workbook_and_is_audited(api: TestClient, db: Session,
                                                         world: World) -> None:
    response = _query(api, "cm_a", {"dimensions": ["agency"],
                                    "measures": ["referrals", "valid", "conversion_rate"]},
                      path="query/export")
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["多维查询"].iter_rows(values_only=True))
    assert rows == [("渠道公司", "报备数", "有效报备", "转化率"), ("渠道A", 3, 2, 0.6667),
                    ("渠道B", 2, 1, 0), ("全民营销（个人经纪人）", 2, 2, 0.5)]
    notes = {str(k): v for k, v in book["导出说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["行数"] == "3" and "date_from=2026-11-01" in str(notes["筛选"])
    logged = db.exec(select(AuditLog).where(AuditLog.action == "channel.analytics_export")).one()
    assert logged.detail["count"] == 3 and logged.detail["dimensions"] == ["agency"]


# -- scopes --------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "expected"), [
    ("hqall", 8), ("cm_a", 7), ("cm_b", 1), ("agency_a", 3)])
def test_each_reader_counts_only_their_scope(api: TestClient, user: str,
                                             expected: int) -> None:
    assert _get(api, user, "performance")["total"]["referrals"] == expected
    rows = _query(api, user, {"dimensions": ["project"], "measures": ["referrals"]}).json()
    assert sum(r["referrals"] for r in rows["items"]) == expected


def test_an_agency_admin_never_sees_another_agency(api: TestClient, world: World) -> None:
    other = _query(api, "agency_a", {"dimensions": ["broker"], "measures": ["referrals"],
                                     "filters": {"agency_ids": [world.agencies["B"]]}}).json()
    assert other["items"] == [] and other["total"] == 0
    ranked = _get(api, "agency_a", "rankings", subject="broker")["items"]
    assert {r["label"] for r in ranked} == {"ba1名", "ba2名"}
    # A channel manager naming the other site's project gets nothing, not a 404 oracle.
    assert _get(api, "cm_a", "performance",
                project_id=world.projects["b"])["total"]["referrals"] == 0


def test_brokers_and_agency_admins_cannot_export_and_brokers_cannot_read(
        api: TestClient) -> None:
    assert _query(api, "ba1", {"measures": ["referrals"]}).status_code == 403
    assert _query(api, "agency_a", {"measures": ["referrals"]},
                  path="query/export").status_code == 403


# -- the same queries on SQLite (the demo's database) -------------------------------------

@pytest.fixture
def sqlite_session(tmp_path: Path) -> Iterator[tuple[Session, CloudSettings]]:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    settings = make_settings(url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        yield session, settings
    engine.dispose()


def _hq(user_id: int) -> Principal:
    return Principal(user_id=user_id, username="hqall", display_name="hqall", roles=frozenset(
        {"hq_manager"}), permissions=frozenset(), site_ids=None, ip=None)


def _answers(session: Session, world: World) -> dict[str, Any]:
    hq = _hq(world.users["hqall"])
    filters = analytics.Filters(date_from=FROM, date_to=TO)
    found: dict[str, Any] = {}
    for unit in ("day", "week", "month"):
        found[unit] = analytics_reports.performance(
            session, hq, filters=filters, group="channel_group", granularity=unit)
    found["query"] = analytics.run(session, hq, analytics.Spec(
        ("agency", "consultant", "week"),
        (*analytics_reports.RANK_MEASURES, "distinct_customers", "refused", "confirmed"),
        filters, limit=None)).rows
    for subject in analytics_reports.SUBJECTS:
        found[subject] = analytics_reports.rankings(session, hq, filters=filters,
                                                    subject=subject, by="referrals", limit=10)
    return found


def test_sqlite_and_postgresql_agree(db: Session, settings: CloudSettings,
                                     sqlite_session: tuple[Session, CloudSettings]) -> None:
    on_postgres = _answers(db, build(db, settings))
    lite, lite_settings = sqlite_session
    on_sqlite = _answers(lite, build(lite, lite_settings))

    assert on_sqlite == on_postgres
    assert [p["bucket"] for p in on_sqlite["week"]["trend"]][:2] == ["2026-10-26", "2026-11-02"]
    assert {p["bucket"]: p["referrals"] for p in on_sqlite["day"]["trend"]}["2026-11-02"] == 3


def test_the_analytics_indexes_match_the_models(engine: Engine) -> None:
    assert drift(engine, {"channel_referral", "visit"}) == []
