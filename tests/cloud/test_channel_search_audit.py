"""A customer search by number (`GET /customers?phone=`, the console and the PWA online)
is audited — who searched which customer, never the number in clear — and the risk
check `searched_before_referral` sees it, end to end on real PostgreSQL."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel.risk_models import RiskCase
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import PHONE_A

UNKNOWN = "13755550001"


def _searched(db: Session) -> list[AuditLog]:
    db.rollback()
    return list(db.exec(select(AuditLog).where(AuditLog.action == "customer.search")
                        .order_by(col(AuditLog.id))).all())


def _cases(db: Session, settings: CloudSettings, referral_id: int) -> list[RiskCase]:
    """The referral's cases once the scan has run: a `review` check waits for it (ADR 0049)."""
    db.rollback()
    jobs()["channel.risk_referral_scan"].run(db, settings)
    db.commit()
    return list(db.exec(select(RiskCase).where(RiskCase.referral_id == referral_id)).all())


def test_a_search_is_audited_and_a_later_referral_of_the_number_raises_a_case(
        api: TestClient, cw: ChannelWorld, db: Session,
        settings: CloudSettings) -> None:
    project = cw.project("site-a")
    manager = signed_in(api, "manager_a")
    found = api.get("/api/v1/customers", headers=manager, params={"phone": PHONE_A})
    assert found.status_code == 200 and len(found.json()) == 1
    assert api.get("/api/v1/customers", headers=manager,
                   params={"phone": UNKNOWN}).json() == []

    known, unknown = _searched(db)
    assert (known.actor, known.object_type, known.object_id) == (
        "manager_a", "customer", str(found.json()[0]["id"]))
    assert known.detail["project_id"] == project
    assert (unknown.object_id, unknown.detail["site_ids"]) == ("", ["site-a"])
    assert unknown.detail["phone_masked"] == "137****0001"
    for row in (known, unknown):
        assert PHONE_A not in json.dumps(row.detail) and UNKNOWN not in json.dumps(row.detail)

    broker = signed_in(api, "broker_a1")
    for phone in (PHONE_A, UNKNOWN):
        referral = refer(api, broker, project, phone).json()
        [case] = _cases(db, settings, referral["id"])
        assert case.check_code == "searched_before_referral"
        [lookup] = [i for i in case.evidence["timeline"] if i["kind"] == "lookup"]
        assert lookup["text"] == "按号码搜索客户（manager_a）"


def test_a_search_on_another_site_does_not_count_for_this_projects_referral(
        api: TestClient, cw: ChannelWorld, db: Session,
        settings: CloudSettings) -> None:
    other = signed_in(api, "consult_b")  # site-b only
    assert api.get("/api/v1/customers", headers=other, params={"phone": UNKNOWN}).json() == []
    [row] = _searched(db)
    assert row.detail["site_ids"] == ["site-b"]
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), UNKNOWN).json()
    assert _cases(db, settings, referral["id"]) == []
    # The same search by someone who sees every site counts.
    assert api.get("/api/v1/customers", headers=signed_in(api, "hqadmin"),
                   params={"phone": "13755550002"}).json() == []
    later = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"),
                  "13755550002").json()
    assert [c.check_code for c in _cases(db, settings, later["id"])] == ["searched_before_referral"]
