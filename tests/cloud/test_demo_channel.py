"""`make demo`'s channel data, seeded through the services on real PostgreSQL: every
渠道 page and the broker H5 have something to show, and a second start adds nothing."""

from __future__ import annotations

import time
from collections import Counter

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud import demo_channel
from cloud.audit.models import AuditLog
from cloud.catalog.models import Project
from cloud.channel.appeal_models import Appeal
from cloud.channel.listing_models import Campaign
from cloud.channel.models import Agency, Broker, Referral, RuleVersion
from cloud.channel.risk_models import RiskCase
from cloud.main import create_app
from cloud.settings import CloudSettings
from cloud.sync import provision

ACCOUNTS = {username: f"Demo#{n}-Passw0rd-x{n * 7}" for n, (username, *_) in enumerate(
            demo_channel.DEMO_CHANNEL_PEOPLE)}


def test_the_demo_seeds_channel_data_once_through_the_services(
    db: Session, settings: CloudSettings,
) -> None:
    provision.provision_site(db, settings=settings, site_id="demo-sh", name="演示案场",
                             projects=["星河湾一期"], actor="demo")
    db.commit()
    project = db.exec(select(Project).where(Project.site_id == "demo-sh")).one()
    assert project.id is not None

    started = time.monotonic()
    made = demo_channel.seed(db, settings=settings, site_id="demo-sh", project_id=project.id,
                             accounts=ACCOUNTS)
    db.commit()
    assert time.monotonic() - started < 10  # the demo's start stays quick

    agencies = db.exec(select(Agency).order_by(col(Agency.id))).all()
    assert [(a.status, a.team) for a in agencies] == [("active", "金牌组"), ("active", None)]
    assert {b.status for b in db.exec(select(Broker)).all()} == {"active"}
    states = Counter(db.exec(select(Referral.state)).all())
    assert states == {"confirmed": 2, "pending": 1, "invalid": 1}
    assert sorted(made["referrals"].values()) == ["confirmed", "confirmed", "invalid", "pending"]
    assert len(db.exec(select(RuleVersion).where(
        RuleVersion.project_id == project.id)).all()) == 3  # defaults, now, next month
    assert sorted(c.status for c in db.exec(select(Campaign)).all()) == ["draft", "published"]
    case = db.exec(select(RiskCase)).one()
    assert case.check_code == "duplicate_qr" and case.id == made["risk_case"]
    appeal = db.exec(select(Appeal)).one()
    assert appeal.id == made["appeal"] and appeal.appealed_state == "invalid"
    # Made as people make them: invited, joined, approved, published, referred — audited.
    actions = set(db.exec(select(AuditLog.action)).all())
    assert {"channel.agency_invite", "channel.broker_join", "channel.broker_update",
            "channel.rules_publish", "channel.referral_submit", "channel.appeal_submit",
            "channel.campaign_create", "channel.cooperation_update"} <= actions

    # A second start of the same demo folder adds nothing.
    assert demo_channel.seed(db, settings=settings, site_id="demo-sh", project_id=project.id,
                             accounts=ACCOUNTS) == {}
    assert len(db.exec(select(Agency)).all()) == 2

    # What the pages and the H5 then show: the channel manager's lists, the broker's own.
    with TestClient(create_app(settings)) as api:
        def token(username: str) -> dict[str, str]:
            answer = api.post("/api/v1/auth/login", json={
                "username": username, "password": ACCOUNTS[username]})
            assert answer.status_code == 200, answer.text
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        staff = token("qudao")
        assert len(api.get("/api/v1/channel/referrals", headers=staff).json()) == 4
        assert api.get("/api/v1/channel/risk/cases", headers=staff).json()
        assert api.get(f"/api/v1/channel/projects/{project.id}/profile",
                       headers=staff).json()["district"] == "浦东新区"
        broker = token(demo_channel.DEMO_H5_BROKER)
        me = api.get("/api/v1/channel/broker/me", headers=broker).json()
        assert me["can_refer"] is True
        mine = api.get("/api/v1/channel/broker/customers", headers=broker).json()
        assert [c["state"] for c in mine] == ["pending"]
        assert api.get("/api/v1/channel/broker/campaigns", headers=broker).json()
