"""The console's visit search on PostgreSQL: filters (phone through the blind index, in
full or masked form; customer, consultant, first or return visit; Beijing days), the exact
total, page jumps and their bounds, the audited XLSX export, the customer timeline, the
consultant list, and the names the audit list resolves for its objects."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.models import AuditLog
from cloud.audit.objects import object_labels
from cloud.catalog.models import Project
from cloud.identity.principal import Principal
from cloud.sales import export, visits
from cloud.settings import CloudSettings
from cloud.sync import provision, service
from shared.crypto import decode_key
from shared.envelope import Envelope
from shared.events import FOLLOWUP_RECORDED, VISIT_REGISTERED
from shared.timeutil import SHANGHAI, utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.wire import EPOCH, INSTANCE

ZHANG, LIU, ZHOU, CHEN = "13812345678", "13987654321", "13812340000", "13800005678"
HOSTILE_INTENT = '=HYPERLINK("http://evil.example","点我")'


def beijing(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time some days back (always in the past), as an aware datetime."""
    day = datetime.now(SHANGHAI).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@dataclass
class Site:
    site_id: str
    key: bytes
    project_id: int
    seq: int = 0
    visit_ids: dict[str, str] = field(default_factory=dict)

    def send(self, db: Session, settings: CloudSettings, type_: str, at: datetime,
             payload: dict[str, Any]) -> None:
        self.seq += 1
        env = Envelope(
        epoch=EPOCH, instance=INSTANCE,
        site_id=self.site_id, seq=self.seq, event_id=uuid.uuid4(), type=type_,
                       occurred_at=at, sent_at=utcnow(), payload=payload).signed(self.key)
        result = service.apply_batch(db, settings=settings, site_id=self.site_id,
                                     envelopes=[env])
        assert result.acked_seq == self.seq and not result.rejected, result.rejected
        db.commit()

    def visit(self, db: Session, settings: CloudSettings, label: str, phone: str, name: str,
              at: datetime, consultant_id: int | None, intent: str | None = None) -> None:
        self.visit_ids[label] = str(uuid.uuid4())
        self.send(db, settings, VISIT_REGISTERED, at, {
            "visit_id": self.visit_ids[label], "project_id": self.project_id, "phone": phone,
            "name": name, "party_size": 2, "intent": intent, "consultant_id": consultant_id})


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> dict[str, Any]:
    """Site A: 张伟 twice (first, then return), 刘洋 with a hostile intent, 周 without a
    consultant, 陈 whose number shares 张伟's 3+4 form. Site B: 张伟's number again."""
    sites: dict[str, Site] = {}
    for site_id, name in (("site-a", "星河湾案场"), ("site-b", "滨江案场")):
        creds = provision.provision_site(db, settings=settings, site_id=site_id, name=name,
                                         projects=[f"{name}一期"])
        db.flush()
        project = db.exec(select(Project).where(Project.site_id == site_id)).one()
        assert project.id is not None
        sites[site_id] = Site(site_id, decode_key(creds.site_key), project.id)
    ids: dict[str, Any] = {"sites": sites}
    for username, display, roles, scopes, everything in (
        ("wanglei", "王磊", ["consultant"], ["site-a"], False),
        ("lina", "李娜", ["consultant"], ["site-a"], False),
        ("consult_b", "赵强", ["consultant"], ["site-b"], False),
        ("manager_a", "孙经理", ["sales_manager"], ["site-a"], False),
        ("reception_a", "前台", ["receptionist"], ["site-a"], False),
        ("hqadmin", "总部", ["hq_manager"], [], True),
        ("auditor", "审计员", ["audit_admin"], [], False),
    ):
        ids[username] = make_user(db, username, roles=roles, site_ids=scopes,
                                  scope_all=everything, display_name=display).id
    a, b = sites["site-a"], sites["site-b"]
    a.visit(db, settings, "zhang1", ZHANG, "张伟", beijing(3, 10), ids["wanglei"], "三房")
    a.visit(db, settings, "liu", LIU, "刘洋", beijing(2, 11), ids["lina"], HOSTILE_INTENT)
    a.visit(db, settings, "zhou", ZHOU, "周芳", beijing(1, 9), None)
    a.visit(db, settings, "zhang2", ZHANG, "张伟", beijing(1, 15, 30), ids["wanglei"])
    # 00:05 in Beijing is the day before in UTC.
    a.visit(db, settings, "chen", CHEN, "陈静", beijing(4, 0, 5), ids["lina"])
    b.visit(db, settings, "zhang", ZHANG, "张伟", beijing(1, 10), ids["consult_b"])
    return ids


def search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/visits", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def phones(page: dict[str, Any]) -> list[str]:
    return [v["phone_masked"] for v in page["items"]]


def test_search_by_full_or_masked_phone_through_the_blind_index(
    client: TestClient, world: dict[str, Any]
) -> None:
    consultant = signed_in(client, "wanglei")
    found = search(client, consultant, phone="+86 138-1234-5678")
    assert [v["customer_name_masked"] for v in found["items"]] == ["张**", "张**"]
    assert {v["site_id"] for v in found["items"]} == {"site-a"} and found["total"] == 2
    # HQ sees the same number at the other site too (another project, another customer).
    assert search(client, signed_in(client, "hqadmin"), phone=ZHANG)["total"] == 3
    # The masked form matches every number with the same first three and last four.
    masked = search(client, consultant, phone="138****5678")
    assert sorted({v["customer_name_masked"] for v in masked["items"]}) == ["张**", "陈**"]
    assert masked["total"] == 3

    for bad in ("12345", "138****56", "1381234567x"):
        refused = client.get("/api/v1/visits", headers=consultant, params={"phone": bad})
        assert refused.status_code == 422
        assert problem(refused)["code"] == "invalid_phone"
        assert "手机号" in problem(refused)["detail"]


def test_filters_by_customer_consultant_and_first_or_return_with_the_total(
    client: TestClient, world: dict[str, Any]
) -> None:
    headers = signed_in(client, "manager_a")
    everything = search(client, headers)
    assert everything["total"] == 5 and len(everything["items"]) == 5
    # Newest first.
    times = [v["occurred_at"] for v in everything["items"]]
    assert times == sorted(times, reverse=True)
    zhang_id = next(v["customer_id"] for v in everything["items"] if v["phone_masked"]
                    == "138****5678" and v["customer_name_masked"] == "张**")

    by_customer = search(client, headers, customer_id=zhang_id)
    assert [v["is_first_visit"] for v in by_customer["items"]] == [False, True]
    by_consultant = search(client, headers, consultant_id=world["lina"])
    assert {v["consultant_name"] for v in by_consultant["items"]} == {"李娜"}
    assert by_consultant["total"] == 2
    returns = search(client, headers, first_visit="false")
    assert returns["total"] == 1 and returns["items"][0]["customer_id"] == zhang_id
    firsts = search(client, headers, first_visit="true", limit=1)
    assert firsts["total"] == 4 and len(firsts["items"]) == 1  # the total ignores the page
    combined = search(client, headers, consultant_id=world["wanglei"], first_visit="true")
    assert combined["total"] == 1
    # Beijing calendar days: yesterday had 周芳 at 09:00 and 张伟's return at 15:30.
    yesterday = (datetime.now(SHANGHAI).date() - timedelta(days=1)).isoformat()
    day = search(client, headers, date_from=yesterday, date_to=yesterday)
    assert [v["customer_name_masked"] for v in day["items"]] == ["张**", "周**"]
    # Scope still applies: another site's filter finds nothing, and counts nothing.
    assert search(client, headers, site_id="site-b") == {"items": [], "next_cursor": None,
                                                         "total": 0}


def test_page_jumps_with_bounds_and_the_cursor_still_works(
    client: TestClient, world: dict[str, Any]
) -> None:
    headers = signed_in(client, "manager_a")
    ids = [v["id"] for v in search(client, headers)["items"]]
    assert [v["id"] for v in search(client, headers, limit=2, page=2)["items"]] == ids[2:4]
    last = search(client, headers, limit=2, page=3)
    assert [v["id"] for v in last["items"]] == ids[4:] and last["total"] == 5
    assert last["next_cursor"] is None
    assert search(client, headers, limit=2, page=9)["items"] == []

    walked: list[str] = []
    cursor = None
    while True:
        page = search(client, headers, limit=2, **({"cursor": cursor} if cursor else {}))
        walked += [v["id"] for v in page["items"]]
        assert page["total"] == 5
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ids

    deep = client.get("/api/v1/visits", headers=headers, params={"limit": 50, "page": 201})
    assert deep.status_code == 422 and problem(deep)["code"] == "page_out_of_range"
    assert "10,000" in problem(deep)["detail"]
    assert search(client, headers, limit=50, page=200)["items"] == []  # exactly at the bound
    both = client.get("/api/v1/visits", headers=headers, params={"page": 2, "cursor": "x|y"})
    assert both.status_code == 422 and problem(both)["code"] == "cursor_with_page"
    for bad in ("garbage", "2026-01-01T00:00:00|", "2026-01-01T00:00:00|abc"):
        broken = client.get("/api/v1/visits", headers=headers, params={"cursor": bad})
        assert broken.status_code == 422 and problem(broken)["code"] == "invalid_cursor"
    zero = client.get("/api/v1/visits", headers=headers, params={"page": 0})
    assert zero.status_code == 422 and problem(zero)["code"] == "validation_failed"


def test_export_is_a_masked_xlsx_in_beijing_time_and_audited(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    headers = signed_in(client, "manager_a")
    response = client.get("/api/v1/visits/export", headers=headers,
                          params={"phone": "138****5678"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == export_media_type()
    assert response.headers["x-export-truncated"] == "false"
    disposition = response.headers["content-disposition"]
    star = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert star and re.fullmatch(r"到访记录-\d{8}-\d{6}\.xlsx", unquote(star.group(1)))
    assert re.search(r'filename="visits-\d{8}-\d{6}\.xlsx"', disposition)

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["到访记录", "导出说明"]
    rows = list(book["到访记录"].iter_rows(values_only=True))
    assert rows[0][:3] == ("到访时间（北京时间）", "到访日期", "案场")
    assert [r[4] for r in rows[1:]] == ["张**", "张**", "陈**"]  # newest first
    assert {r[5] for r in rows[1:]} == {"138****5678"}
    assert rows[1][0] == beijing(1, 15, 30).replace(tzinfo=None)
    assert rows[1][2:4] == ("星河湾案场", "星河湾案场一期")
    assert rows[3][0] == beijing(4, 0, 5).replace(tzinfo=None)  # 00:05 Beijing, not UTC
    assert rows[3][1] == datetime.combine(beijing(4, 0).date(), time())
    assert [r[6] for r in rows[1:]] == ["复访", "首访", "首访"]
    notes = dict(r for r in book["导出说明"].iter_rows(min_row=2, values_only=True))
    assert notes["导出人"] == "孙经理（manager_a）" and notes["记录条数"] == "3"
    assert notes["筛选：手机号"] == "138****5678"
    everything = " ".join(str(c) for s in book for r in s.iter_rows(values_only=True) for c in r)
    assert ZHANG not in everything and CHEN not in everything and "张伟" not in everything

    [audit] = audit_rows(db, "visit.export")
    assert audit.actor == "manager_a" and audit.object_type == "visit"
    assert audit.detail == {"filters": {"phone": "138****5678"}, "count": 3,
                            "truncated": False}

    refused = client.get("/api/v1/visits/export", headers=signed_in(client, "wanglei"))
    assert refused.status_code == 403 and problem(refused)["code"] == "forbidden"
    bad = client.get("/api/v1/visits/export", headers=headers, params={"phone": "1380"})
    assert bad.status_code == 422 and problem(bad)["code"] == "invalid_phone"


def export_media_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_export_cells_cannot_run_as_formulas(client: TestClient, world: dict[str, Any]) -> None:
    response = client.get("/api/v1/visits/export", headers=signed_in(client, "hqadmin"),
                          params={"consultant_id": world["lina"], "first_visit": "true"})
    sheet = load_workbook(io.BytesIO(response.content))["到访记录"]
    intents = {row[10].value: row[10].data_type for row in sheet.iter_rows(min_row=2)}
    assert intents == {"'" + HOSTILE_INTENT: "s", None: "n"}


def test_export_stops_at_the_row_cap_and_says_so(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    principal = Principal(user_id=world["hqadmin"], username="hqadmin", display_name="总部",
                          roles=frozenset({"hq_manager"}), permissions=frozenset(),
                          site_ids=None, ip=None)
    result = export.build(db, settings=settings, principal=principal,
                          filters=visits.VisitFilter(site_id="site-a"), max_rows=2)
    assert (result.count, result.truncated) == (2, True)
    book = load_workbook(io.BytesIO(result.content))
    assert book["到访记录"].max_row == 3  # header + 2
    notes = dict(r for r in book["导出说明"].iter_rows(min_row=2, values_only=True))
    assert "仅导出了最新的 2 条" in str(notes["提示"])
    assert notes["筛选：案场"] == "星河湾案场"


def test_the_customer_timeline_merges_visits_and_follow_ups_newest_first(
    client: TestClient, world: dict[str, Any], db: Session, settings: CloudSettings
) -> None:
    a: Site = world["sites"]["site-a"]
    for at, kind, note in ((beijing(2, 18), "call", "电话回访"),
                           (beijing(1, 16), "meeting", "面谈：看了样板间")):
        a.send(db, settings, FOLLOWUP_RECORDED, at, {
            "follow_up_id": str(uuid.uuid4()), "project_id": a.project_id, "phone": ZHANG,
            "consultant_id": world["wanglei"], "kind": kind, "reached": True, "note": note,
            "occurred_at": at.isoformat()})
    headers = signed_in(client, "lina")
    zhang = search(client, headers, phone=ZHANG)["items"][0]["customer_id"]

    response = client.get(f"/api/v1/customers/{zhang}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    card = body["customer"]
    assert (card["phone_masked"], card["name_masked"]) == ("138****5678", "张**")
    assert (card["owner_name"], card["visit_count"], card["site_id"]) == ("王磊", 2, "site-a")
    assert [(i["kind"], i.get("note") or i.get("is_first_visit")) for i in body["items"]] == [
        ("follow_up", "面谈：看了样板间"), ("visit", False), ("follow_up", "电话回访"),
        ("visit", True)]
    assert {i["consultant_name"] for i in body["items"]} == {"王磊"}
    assert all(i["at"].endswith("Z") for i in body["items"]) and body["has_more"] is False

    other_site = search(client, signed_in(client, "hqadmin"), site_id="site-b")["items"][0]
    hidden = client.get(f"/api/v1/customers/{other_site['customer_id']}/timeline",
                        headers=headers)
    assert hidden.status_code == 404 and problem(hidden)["code"] == "customer_not_found"
    missing = client.get("/api/v1/customers/999999/timeline", headers=headers)
    assert missing.status_code == 404
    refused = client.get(f"/api/v1/customers/{zhang}/timeline",
                         headers=signed_in(client, "reception_a"))
    assert refused.status_code == 403


def test_consultants_to_filter_by_are_the_staff_of_the_readers_sites(
    client: TestClient, world: dict[str, Any]
) -> None:
    def names(username: str, **params: str) -> list[str]:
        response = client.get("/api/v1/consultants", headers=signed_in(client, username),
                              params=params)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()]

    assert names("reception_a") == sorted(["李娜", "孙经理", "王磊"])
    assert names("hqadmin") == sorted(["李娜", "孙经理", "王磊", "赵强"])
    assert names("hqadmin", site_id="site-b") == ["赵强"]
    assert names("reception_a", site_id="site-b") == []


def test_audit_rows_name_their_objects_with_one_query_per_type(
    client: TestClient, world: dict[str, Any], db: Session, engine: Engine
) -> None:
    manager = signed_in(client, "manager_a")
    zhang = search(client, manager, phone=ZHANG)["items"][0]["customer_id"]
    shown = client.post(f"/api/v1/customers/{zhang}/unmask", headers=manager,
                        json={"reason": "回访客户"})
    assert shown.status_code == 200
    project = db.exec(select(Project).where(Project.site_id == "site-b")).one()
    audit_service.record(db, action="project.create", actor="cli", object_type="project",
                         object_id=str(project.id))
    audit_service.record(db, action="user.roles", actor="security", object_type="user",
                         object_id="not-a-number")
    db.commit()

    logs = client.get("/api/v1/audit/logs", headers=signed_in(client, "auditor"),
                      params={"limit": 200}).json()["items"]
    labels = {(r["action"], r["object_type"], r["object_label"]) for r in logs}
    assert ("customer.unmask", "customer", "138****5678") in labels
    assert ("site.create", "site", "星河湾案场") in labels
    assert ("project.create", "project", "滨江案场一期") in labels
    assert ("user.create", "user", "王磊（wanglei）") in labels
    assert ("user.roles", "user", None) in labels  # no such user: no name, no error
    assert ("sync.events_applied", "site", "滨江案场") in labels

    rows = db.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert {r.object_type for r in rows} >= {"user", "site", "project", "customer"}
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        object_labels(db, rows)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 4, statements  # user, site, project, customer


def test_the_day_filter_is_a_beijing_calendar_day(client: TestClient,
                                                  world: dict[str, Any]) -> None:
    # 陈静 came at 00:05 Beijing time, which is still the day before in UTC.
    day = beijing(4, 0).date()
    found = search(client, signed_in(client, "manager_a"), date_from=day.isoformat(),
                   date_to=day.isoformat())
    assert [v["customer_name_masked"] for v in found["items"]] == ["陈**"]
    assert found["items"][0]["visit_date"] == day.isoformat()
    assert date.fromisoformat(found["items"][0]["occurred_at"][:10]) == day - timedelta(days=1)
