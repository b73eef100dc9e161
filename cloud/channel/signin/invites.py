"""Personal invites (全民营销, "invite friends"): each active broker's code, its link into
the broker H5, who joined through it, and what the poster (poster.py) says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.catalog.models import Project, Site
from cloud.channel import partners, scopes
from cloud.channel.errors import ProjectNotFound
from cloud.channel.models import Agency, Broker
from cloud.channel.signin.errors import NoInviteCode
from cloud.channel.signin.poster import Caption
from cloud.identity.deps import Principal
from cloud.identity.models import User


@dataclass(frozen=True)
class Invitee:
    display_name: str
    joined_at: datetime


@dataclass(frozen=True)
class MyInvite:
    code: str
    link: str
    invited: list[Invitee]
    inviter: str
    agency: str | None


def link_of(h5_url: str, code: str) -> str:
    return f"{h5_url.rstrip('/')}/#/join?invite={code}"


def mine(session: Session, *, principal: Principal, h5_url: str) -> MyInvite:
    broker = scopes.broker_of(session, principal)
    if broker is None or broker.id is None or not partners.can_refer(session, broker):
        # A pending or frozen broker's invitations would be refused at sign-up anyway.
        raise NoInviteCode("经纪人审核通过后才能邀请好友")
    code = broker.invite_code or _give_code(session, broker)
    rows = session.exec(
        select(User.display_name, Broker.created_at)
        .join(User, col(User.id) == col(Broker.user_id))
        .where(Broker.invited_by == broker.id)
        .order_by(col(Broker.created_at).desc())
    ).all()
    inviter = session.get(User, broker.user_id)
    agency = session.get(Agency, broker.agency_id) if broker.agency_id else None
    return MyInvite(code=code, link=link_of(h5_url, code),
                    invited=[Invitee(name, at) for name, at in rows],
                    inviter=inviter.display_name if inviter else "",
                    agency=agency.name if agency else None)


def caption(session: Session, mine: MyInvite, project_id: int | None) -> Caption:
    """The poster's words; a project named must be one brokers see (of an active site)."""
    project = None
    if project_id is not None:
        project = session.exec(
            select(Project.name).join(Site, col(Site.id) == col(Project.site_id))
            .where(Project.id == project_id, col(Site.is_active).is_(True))).first()
        if project is None:
            raise ProjectNotFound()
    return Caption(inviter=mine.inviter, agency=mine.agency, project=project, code=mine.code)


def _give_code(session: Session, broker: Broker) -> str:
    session.refresh(broker, with_for_update=True)  # two first looks at once: one code
    if broker.invite_code:
        return broker.invite_code
    # Agency and personal codes share one space: a code must name one inviter only.
    for _ in range(10):
        code = partners.new_invite_code()
        taken = session.exec(select(Agency.id).where(Agency.invite_code == code)).first()
        if taken is not None:
            continue
        broker.invite_code = code
        session.add(broker)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            broker.invite_code = None
            continue
        return code
    raise RuntimeError("no free invite code after 10 tries")
