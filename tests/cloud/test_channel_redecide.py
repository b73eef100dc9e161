"""Re-deciding live referrals when facts arrive after the submission: a visit sooner than
the lead time (防截客), a referral window that ran out (到访逾期)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from cloud.audit.models import AuditLog
from cloud.channel.models import Referral
from cloud.channel.redecide import redecide_project
from cloud.cli import app as cloud_cli
from cloud.settings import CloudSettings
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import apply, envelope

NEW = "13612345678"


def test_a_visit_inside_the_lead_time_invalidates_the_referral(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings, run: CliRunner
) -> None:
    headers = signed_in(api, "broker_a1")
    referral = refer(api, headers, cw.project("site-a"), NEW).json()
    assert referral["state"] == "confirmed"
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": str(uuid.uuid4()), "project_id": site.project_id, "phone": NEW,
        "party_size": 1, "consultant_id": cw.sales["consult_a"]})])

    result = run.invoke(cloud_cli, ["channel", "redecide", "--project-id",
                                    str(site.project_id)])
    assert result.exit_code == 0, result.output
    assert "1 条有变化" in result.output
    after = api.get(f"/api/v1/channel/referrals/{referral['id']}", headers=headers).json()
    assert (after["state"], after["reason_code"]) == ("invalid", "lead_time_not_met")
    assert after["reason"] == "未满足防截客时间"
    audit = db.exec(select(AuditLog).where(AuditLog.action == "channel.referral_redecide")
                    ).one()
    assert audit.detail["after"] == {"state": "invalid", "reason": "lead_time_not_met",
                                     "protection_until": None}


def test_no_visit_within_the_window_expires_the_referral(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW)
    later = utcnow() + timedelta(hours=73)
    result = redecide_project(db, settings=settings, project_id=cw.project("site-a"),
                              as_of=later)
    db.commit()
    assert (result.checked, result.changed) == (1, 1)
    row = db.exec(select(Referral)).one()
    assert (row.state, row.reason_code) == ("expired", "visit_overdue")
    # Nothing changes on a second run.
    again = redecide_project(db, settings=settings, project_id=cw.project("site-a"),
                             as_of=later)
    assert (again.checked, again.changed) == (0, 0)
