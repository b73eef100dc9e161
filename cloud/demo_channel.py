"""`make demo`'s channel data (渠道), made through the channel services as people would
make it — invitations, joining, approval, publishing, referring, appealing — so every
渠道 page and the broker H5 show something and every step is in the audit log.

Seeded once per demo folder (when it has no agency yet), in one transaction of a few
dozen statements: it adds well under a second to the demo's start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from cloud.channel import (
    appeals,
    campaigns,
    cooperation,
    partners,
    profiles,
    referrals,
    risk_cases,
    rules,
)
from cloud.channel.listing_schemas import CampaignIn, CampaignUpdate, ProfileIn
from cloud.channel.models import Agency, Broker, Referral
from cloud.identity import service as identity_service
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.settings import CloudSettings
from shared.timeutil import iso, utcnow

# username, display name, role, agency (index into DEMO_AGENCIES; None: 全民经纪人), phone
DEMO_CHANNEL_PEOPLE = [
    ("qudao", "渠道经理陈静", "channel_manager", None, None),
    ("jingjiren", "张强", "broker", 0, "13700001001"),
    ("lisi", "李四", "broker", 1, "13700001002"),
    ("quanmin", "王芳", "broker", None, "13700001003"),
]
# The account printed for signing in to the broker H5.
DEMO_H5_BROKER = "jingjiren"
DEMO_AGENCIES = [("链家地产（演示）", "金牌组"), ("我爱我家（演示）", None)]
# The first agency's team confirms referrals at the guided visit (扫码或前台指定带看):
# its broker's referral stays pending until the customer comes to the office.
DEMO_RULES = {"phone_policy": "3+4",
              "team_overrides": {"金牌组": {"confirmation": "on_site"}}}


def _principal(session: Session, user: User) -> Principal:
    return identity_service.load_principal(session, user=user, ip=None)


def seeded(session: Session) -> bool:
    return session.exec(select(Agency.id)).first() is not None


def seed(session: Session, *, settings: CloudSettings, site_id: str, project_id: int,
         accounts: dict[str, str]) -> dict[str, Any]:
    """Agencies, brokers, a team, cooperation, rule versions, the project's profile,
    campaigns, referrals in several states, a risk case and an appeal. Idempotent: does
    nothing once an agency exists. Answers what it made (for the banner and the tests)."""
    if seeded(session):
        return {}
    users = {
        username: identity_service.create_user(
            session, username=username, password=accounts[username], display_name=display,
            roles=[role], site_ids=[site_id] if role == "channel_manager" else [],
            must_change_password=False, actor="demo")
        for username, display, role, _, _ in DEMO_CHANNEL_PEOPLE}
    manager = _principal(session, users["qudao"])

    agencies = []
    for name, team in DEMO_AGENCIES:
        agency = partners.invite_agency(session, principal=manager, name=name)
        agencies.append((agency, team))
    brokers: dict[str, Broker] = {}
    for username, _, role, agency_at, phone in DEMO_CHANNEL_PEOPLE:
        if role != "broker" or phone is None:
            continue
        code = agencies[agency_at][0].invite_code if agency_at is not None else None
        broker = partners.join(session, principal=_principal(session, users[username]),
                               settings=settings, invite_code=code, phone=phone)
        partners.update_broker(session, principal=manager, broker_id=broker.id or 0,
                               status="active", rating=4)
        brokers[username] = broker
    for agency, team in agencies:  # joining made them pending: approve, rate, team
        partners.update_agency(session, principal=manager, agency_id=agency.id or 0,
                               status="active", rating=5 if team else 4, team=team or "")
    cooperation.replace(session, principal=manager, project_id=project_id,
                        agency_ids=[a.id or 0 for a, _ in agencies])

    rules.publish(session, principal=manager, project_id=project_id,
                  parameters=DEMO_RULES, effective_from=None)
    # A version announced for next month: the history shows what is coming.
    rules.publish(session, principal=manager, project_id=project_id,
                  parameters={**DEMO_RULES, "referral_protection": {
                      "kind": "duration", "length": "P5D"}},
                  effective_from=utcnow() + timedelta(days=30))
    profiles.write(session, principal=manager, project_id=project_id, data=ProfileIn(
        district="浦东新区", price_min_yuan=4_800_000, price_max_yuan=12_000_000,
        layouts=["三室两厅", "四室两厅", "叠墅"],
        cooperation="成交（签约）后结佣：总价 1.5%；报备保护 72 小时，带看后 30 天。"))
    now = utcnow()
    running = campaigns.create(session, principal=manager, data=CampaignIn(
        title="金秋带看节", requirements="活动期间带看到访即可参与",
        rewards="每组有效带看奖励 200 元", announcement="十月每个周末开放样板间，欢迎带客",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30), project_ids=[project_id]))
    campaigns.update(session, principal=manager, campaign_id=running.id,
                     data=CampaignUpdate(status="published"))
    campaigns.create(session, principal=manager, data=CampaignIn(
        title="年终冲刺（草稿）", requirements="待定", starts_at=now + timedelta(days=40),
        ends_at=now + timedelta(days=70), project_ids=[project_id]))

    def refer(username: str, phone: str, name: str) -> Referral:
        done = referrals.submit(
            session, principal=_principal(session, users[username]), settings=settings,
            broker=brokers[username], data=referrals.Submission(
                project_id=project_id, phone=phone, name=name, customer_group="individual",
                idempotency_key=f"demo-{username}-{phone}"))
        return done.referral

    waiting = refer("jingjiren", "13811112222", "王建国")  # 金牌组: pending until the visit
    kept = refer("lisi", "13622223333", "赵丽华")  # confirmed at once
    refused = refer("quanmin", "13622223333", "赵丽华")  # already referred by lisi
    masked = refer("lisi", "137****4444", "孙美玲")  # a masked referral (3+4)
    # 渠道风控: the guided-visit code of lisi's referral shown at two tablets.
    at = iso(now - timedelta(minutes=20))
    case = risk_cases.record_duplicate_qr(session, referral=kept, scans=[
        {"at": at, "device": site_id, "outcome": "accepted"},
        {"at": iso(now - timedelta(minutes=5)), "device": f"{site_id}（另一台平板）",
         "outcome": "replayed"}])
    appeal = appeals.submit(session, principal=_principal(session, users["quanmin"]),
                            data=appeals.NewAppeal(referral_id=refused.id or 0, kind=None,
                                                   reason="客户最早是我介绍来看房的，附聊天记录"))
    session.flush()
    return {"referrals": {r.id: r.state for r in (waiting, kept, refused, masked)},
            "risk_case": case.id if case else None, "appeal": appeal.id}
