"""销售分析 worked by hand over tests/cloud/sales_analysis_world.py: each figure of the
rules page, the funnel, 去化率 and the intentions, grouped by each dimension; the scope
(a consultant sees their own numbers only, a manager their sites'); PostgreSQL and SQLite
answer alike."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import create_engine
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.identity.permissions import permissions_of
from cloud.identity.principal import Principal
from cloud.migrate import upgrade
from cloud.reception.models import VisitProfileRecord
from cloud.sales import analysis
from cloud.sales.analysis_facts import Scope
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared.timeutil import shanghai_date
from tests.cloud import signed_in
from tests.cloud.sales_analysis_world import FROM, TO, Office, build
from tests.conftest import make_settings

URL = "/api/v1/sales/analysis"


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> Office:
    return build(db, settings)


def _principal(o: Office, username: str, role: str, sites: list[str] | None) -> Principal:
    return Principal(user_id=o.users[username], username=username, display_name=username,
                     roles=frozenset({role}), permissions=permissions_of({role}),
                     site_ids=None if sites is None else frozenset(sites), ip=None)


def _window(o: Office, who: Principal, project: str | None = "a",
            group_by: str | None = None) -> analysis.Window:
    return analysis.Window(Scope.of(who, o.projects[project] if project else None), FROM, TO,
                           group_by)


def _by(answer: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    return {row["key"]: row for row in answer["items"]}


def _pick(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(row[n] for n in names)


def test_the_figures_of_the_project_in_total(db: Session, office: Office) -> None:
    hq = _principal(office, "hqall", "hq_manager", None)
    total = analysis.figures(db, _window(office, hq))["total"]
    # Visits on Beijing days 11-01…11-30: K1 twice, K2 (16:30 UTC on 10-31 is 11-01),
    # K3's return; K4. K3's first (15:59 UTC on 10-31) is Beijing 10-31: outside.
    assert _pick(total, "visits", "first_visits", "return_visits", "call_visits") == (5, 3, 2, 1)
    # Calls on Beijing days 11-01…11-30 at A: 11-01 (con1), 11-01 (16:10 UTC on 10-31),
    # 11-20; 来电转来访 = visits ÷ calls = 5 ÷ 3.
    assert total["calls"] == 3 and total["call_to_visit"] == 1.6667
    # D1; D2 + D3 (converted since, still a deal of the window); D7 (10-30) and D8
    # (never approved) are not.
    assert _pick(total, "pledges", "subscriptions", "subscription_amount_fen") == (
        1, 2, 300_000_000)
    assert total["visit_to_deal"] == 0.4
    # 签约 D4, D5, D6; 退房 of D5; 换房 of D6; 净签约 = 3 − 1 + 0 (the swap closed nothing).
    assert _pick(total, "contracts", "contract_amount_fen", "returns", "returned_amount_fen",
                 "swaps", "net_contracts", "net_contract_amount_fen") == (
        3, 470_000_000, 1, 150_000_000, 1, 2, 320_000_000)


def test_the_figures_by_each_dimension(db: Session, office: Office) -> None:
    hq = _principal(office, "hqall", "hq_manager", None)
    names = ("visits", "first_visits", "pledges", "subscriptions", "contracts", "returns",
             "swaps", "net_contracts", "visit_to_deal")
    by_consultant = _by(analysis.figures(db, _window(office, hq, group_by="consultant")))
    assert {k: _pick(r, *names) for k, r in by_consultant.items()} == {
        office.users["con1"]: (3, 1, 1, 1, 1, 1, 0, 0, 0.3333),
        office.users["con2"]: (2, 2, 0, 1, 2, 0, 1, 2, 0.5)}
    assert by_consultant[office.users["con1"]]["label"] == "顾问con1"
    # A deal's channel is its customer's first visit's source.
    by_channel = _by(analysis.figures(db, _window(office, hq, group_by="channel")))
    assert {k: _pick(r, *names) for k, r in by_channel.items()} == {
        "natural": (3, 1, 1, 1, 1, 1, 0, 0, 0.3333),
        "channel": (1, 1, 0, 1, 1, 0, 0, 1, 1.0),
        "referral_old_customer": (1, 1, 0, 0, 1, 0, 1, 1, 0.0)}
    assert by_channel["referral_old_customer"]["label"] == "老带新"
    # Product: a visit's intended layout, a deal's unit layout.
    by_product = _by(analysis.figures(db, _window(office, hq, group_by="product")))
    assert {k: _pick(r, *names) for k, r in by_product.items()} == {
        "三室": (1, 1, 0, 2, 1, 0, 0, 1, 2.0),
        "两室": (1, 1, 0, 0, 2, 1, 1, 1, 0.0),
        None: (3, 1, 1, 0, 0, 0, 0, 0, 0.0)}
    assert by_product[None]["label"] == "未填写户型"
    by_team = analysis.figures(db, _window(office, hq, project=None, group_by="team"))
    assert {k: (r["label"], r["visits"], r["subscriptions"])
            for k, r in _by(by_team).items()} == {"site-a": ("案场A", 5, 2),
                                                  "site-b": ("案场B", 1, 1)}
    assert by_team["total"]["visits"] == 6 and by_team["total"]["visit_to_deal"] == 0.5


def test_calls_and_call_to_visit_by_the_dimensions_a_call_has(db: Session,
                                                               office: Office) -> None:
    hq = _principal(office, "hqall", "hq_manager", None)
    by_consultant = _by(analysis.figures(db, _window(office, hq, group_by="consultant")))
    assert {k: _pick(r, "visits", "calls", "call_to_visit")
            for k, r in by_consultant.items()} == {office.users["con1"]: (3, 1, 3.0),
                                                   office.users["con2"]: (2, 2, 1.0)}
    by_team = analysis.figures(db, _window(office, hq, project=None, group_by="team"))
    assert {k: _pick(r, "calls", "call_to_visit") for k, r in _by(by_team).items()} == {
        "site-a": (3, 1.6667), "site-b": (1, 1.0)}
    assert _pick(by_team["total"], "visits", "calls", "call_to_visit") == (6, 4, 1.5)
    # A call has no layout and no visit source: those groups say null, the total counts.
    for group_by in ("product", "channel"):
        answer = analysis.figures(db, _window(office, hq, group_by=group_by))
        assert {(r["calls"], r["call_to_visit"]) for r in answer["items"]} == {(None, None)}
        assert _pick(answer["total"], "calls", "call_to_visit") == (3, 1.6667)
    # A consultant counts the calls they answered; no calls, no ratio.
    con1 = _principal(office, "con1", "consultant", ["site-a"])
    assert _pick(analysis.figures(db, _window(office, con1))["total"], "calls",
                 "call_to_visit") == (1, 3.0)
    empty = analysis.Window(Scope.of(hq, office.projects["a"]), TO, TO)
    assert _pick(analysis.figures(db, empty)["total"], "calls", "call_to_visit") == (0, None)


def _stand_in_visit(db: Session, o: Office, when: str) -> None:
    """K2 received by con1 for their owner con2 (义务接待, 50 %) at `when` (UTC)."""
    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    visit_id = str(uuid.uuid4())
    db.add(Visit(id=visit_id, site_id="site-a", project_id=o.projects["a"],
                 customer_id=o.customers["K2"], consultant_id=o.users["con1"], party_size=1,
                 source="natural", is_first_visit=False, visit_date=shanghai_date(moment),
                 occurred_at=moment, edge_occurred_at=moment, event_seq=2))
    db.flush()
    db.add(VisitProfileRecord(visit_id=visit_id, stand_in_for_id=o.users["con2"],
                              stand_in_share=50))
    db.commit()


@pytest.mark.parametrize(("visit_at", "shared"), [
    ("2026-11-03T17:00:00", True),   # Beijing 11-04 01:00: D3's day (11-04 10:00)
    ("2026-11-03T15:00:00", False),  # Beijing 11-03 23:00: the day before
])
def test_a_stand_in_shares_a_subscription_closed_that_day(
        db: Session, office: Office, visit_at: str, shared: bool) -> None:
    """D3 (K2, con2, ¥2,000,000, approved 11-04 Beijing) after con1 received K2 for con2."""
    _stand_in_visit(db, office, visit_at)
    hq = _principal(office, "hqall", "hq_manager", None)
    by_consultant = _by(analysis.figures(db, _window(office, hq, group_by="consultant")))
    credit = {k: _pick(r, "subscriptions", "subscription_amount_fen")
              for k, r in by_consultant.items()}
    con1, con2 = office.users["con1"], office.users["con2"]
    if shared:
        assert credit == {con1: (1.5, 200_000_000), con2: (0.5, 100_000_000)}
    else:
        assert credit == {con1: (1, 100_000_000), con2: (1, 200_000_000)}
    # The deal is still one deal in every other grouping and in the total.
    total = analysis.figures(db, _window(office, hq, group_by="consultant"))["total"]
    assert _pick(total, "subscriptions", "subscription_amount_fen") == (2, 300_000_000)
    assert _by(analysis.figures(db, _window(office, hq, group_by="channel")))["channel"][
        "subscriptions"] == 1
    # Each consultant reads their own part.
    for name, role in (("con1", "consultant"), ("con2", "consultant")):
        own = analysis.figures(db, _window(office, _principal(office, name, role, ["site-a"])))
        assert (own["total"]["subscriptions"],
                own["total"]["subscription_amount_fen"]) == credit[office.users[name]]


def test_the_funnel_of_the_customers_first_received(db: Session, office: Office) -> None:
    hq = _principal(office, "hqall", "hq_manager", None)
    # K1 (a return visit, bought), K2 (an effective follow-up, bought), K4 (a follow-up
    # that reached nobody; a contract without a subscription is no 成交 of the funnel).
    total = analysis.funnel(db, _window(office, hq))["total"]
    assert _pick(total, "stored", "followed", "bought", "follow_rate", "deal_rate") == (
        3, 2, 2, 0.6667, 0.6667)
    by_consultant = _by(analysis.funnel(db, _window(office, hq, group_by="consultant")))
    assert {k: _pick(r, "stored", "followed", "bought") for k, r in by_consultant.items()} == {
        office.users["con1"]: (1, 1, 1), office.users["con2"]: (2, 1, 1)}
    by_channel = _by(analysis.funnel(db, _window(office, hq, group_by="channel")))
    assert {k: _pick(r, "stored", "followed", "bought") for k, r in by_channel.items()} == {
        "natural": (1, 1, 1), "channel": (1, 1, 1), "referral_old_customer": (1, 0, 0)}


def test_sell_through_per_batch_and_layout(db: Session, office: Office) -> None:
    scope = Scope.of(_principal(office, "mgr_a", "sales_manager", ["site-a"]), None)
    by_batch = analysis.sell_through(db, scope, "batch")
    assert {r["label"]: _pick(r, "released", "sold", "sell_through")
            for r in by_batch["items"]} == {"首开": (4, 3, 0.75), "加推": (2, 1, 0.5)}
    assert _pick(by_batch["total"], "released", "sold", "sell_through") == (6, 4, 0.6667)
    by_layout = _by(analysis.sell_through(db, scope, "product"))
    assert {k: _pick(r, "released", "sold") for k, r in by_layout.items()} == {
        "三室": (3, 2), "两室": (3, 2)}


def test_intentions_by_field_and_dimension(db: Session, office: Office) -> None:
    hq = _principal(office, "hqall", "hq_manager", None)

    def cells(field: str, group_by: str | None = None) -> dict[tuple[Any, Any], int]:
        answer = analysis.intentions(db, _window(office, hq, group_by=group_by), field)
        return {(c["key"], c["value"]): c["visits"] for c in answer["items"]}

    assert cells("grade") == {("all", "A"): 1, ("all", "B"): 1, ("all", None): 3}
    assert cells("area") == {("all", "<120"): 1, ("all", "<90"): 1, ("all", None): 3}
    assert cells("budget") == {("all", "<300"): 1, ("all", "<200"): 1, ("all", None): 3}
    assert cells("purpose", "consultant") == {
        (office.users["con1"], "own_use"): 1, (office.users["con1"], None): 2,
        (office.users["con2"], "investment"): 1, (office.users["con2"], None): 1}
    labelled = analysis.intentions(db, _window(office, hq), "awareness")["items"]
    assert {c["value_label"] for c in labelled} == {"电话", "网络", "未填写"}


def test_a_consultant_counts_only_their_own(db: Session, office: Office) -> None:
    con1 = _principal(office, "con1", "consultant", ["site-a"])
    answer = analysis.figures(db, _window(office, con1, project=None, group_by="consultant"))
    assert list(_by(answer)) == [office.users["con1"]]
    assert _pick(answer["total"], "visits", "subscriptions", "contracts") == (3, 1, 1)
    funnel = analysis.funnel(db, _window(office, con1, group_by="channel"))
    assert funnel["total"]["stored"] == 1
    intents = analysis.intentions(db, _window(office, con1), "grade")["items"]
    assert sum(c["visits"] for c in intents) == 3
    con3 = _principal(office, "con3", "consultant", ["site-b"])
    elsewhere = analysis.figures(db, _window(office, con3, project="a"))
    assert elsewhere["items"] == [] and elsewhere["total"]["visits"] == 0


def test_the_api_scopes_each_reader(client: TestClient, db: Session, office: Office) -> None:
    query = {"date_from": FROM.isoformat(), "date_to": TO.isoformat(), "group_by": "consultant"}
    as_c1 = client.get(f"{URL}/figures", params=query, headers=signed_in(client, "con1"))
    assert as_c1.status_code == 200, as_c1.text
    assert [r["key"] for r in as_c1.json()["items"]] == [office.users["con1"]]
    as_manager = client.get(f"{URL}/figures", params=query, headers=signed_in(client, "mgr_a"))
    assert {r["key"] for r in as_manager.json()["items"]} == {office.users["con1"],
                                                              office.users["con2"]}
    # Another site's project is not there for them; no consultant may export.
    other = client.get(f"{URL}/funnel", params={**query, "project_id": office.projects["b"]},
                       headers=signed_in(client, "mgr_a"))
    assert other.status_code == 404 and other.json()["code"] == "project_not_found"
    refused = client.get(f"{URL}/figures/export", params=query, headers=signed_in(client, "con1"))
    assert refused.status_code == 403
    wrong = client.get(f"{URL}/figures", headers=signed_in(client, "mgr_a"),
                       params={"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "analytics_range_invalid"


def test_the_export_is_a_workbook_and_audited(client: TestClient, db: Session,
                                              office: Office) -> None:
    response = client.get(f"{URL}/figures/export", headers=signed_in(client, "mgr_a"), params={
        "date_from": FROM.isoformat(), "date_to": TO.isoformat(), "group_by": "consultant",
        "project_id": office.projects["a"]})
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(r) for r in book["销售指标"].iter_rows(values_only=True)]
    assert rows[0][:2] == ["置业顾问", "到访组数"]
    assert rows[-1][:2] == ["合计", 5] and len(rows) == 4
    funnel = [list(r) for r in book["客户漏斗"].iter_rows(values_only=True)]
    assert funnel[-1][:4] == ["合计", 3, 2, 2]
    audited = db.exec(select(AuditLog).where(AuditLog.action == "sales.analysis_export")).all()
    assert len(audited) == 1 and audited[0].detail["group_by"] == "consultant"


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[tuple[Session, CloudSettings]]:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        yield session, make_settings(url)
    engine.dispose()


def _answers(db: Session, o: Office) -> dict[str, Any]:
    hq = _principal(o, "hqall", "hq_manager", None)
    found: dict[str, Any] = {}
    for group_by in (None, "team", "product", "consultant", "channel"):
        w = _window(o, hq, project=None, group_by=group_by)
        found[f"figures {group_by}"] = analysis.figures(db, w)
        found[f"funnel {group_by}"] = analysis.funnel(db, w)
        found[f"grade {group_by}"] = analysis.intentions(db, w, "area")
    found["sell"] = analysis.sell_through(db, Scope.of(hq, None), "batch")
    return found


def test_sqlite_and_postgresql_agree(db: Session, settings: CloudSettings,
                                     lite: tuple[Session, CloudSettings]) -> None:
    on_postgres = _answers(db, build(db, settings))
    session, lite_settings = lite
    on_sqlite = _answers(session, build(session, lite_settings))
    assert on_sqlite == on_postgres
    assert on_sqlite["figures None"]["total"]["visits"] == 6
