"""Personal invites (全民营销, "invite friends"): each active broker's code, its link into
the broker H5, who joined through it, and a poster with the link's QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.channel import partners, scopes
from cloud.channel.models import Agency, Broker
from cloud.channel.signin.errors import NoInviteCode
from cloud.identity.deps import Principal
from cloud.identity.models import User

BRAND_DARK = "#8b1a1a"  # the project's red, as on the console's login page
BRAND_LIGHT = "#fffaf0"


@dataclass(frozen=True)
class Invitee:
    display_name: str
    joined_at: datetime


@dataclass(frozen=True)
class MyInvite:
    code: str
    link: str
    invited: list[Invitee]


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
    return MyInvite(code=code, link=link_of(h5_url, code),
                    invited=[Invitee(name, at) for name, at in rows])


def poster(link: str) -> bytes:
    """The link's QR code as a PNG, in the project's colours with a wide quiet zone to
    print on. No caption: the venv has no font renderer (Pillow is not a dependency);
    the H5 page around the poster carries the text (ADR 0023)."""
    qr = segno.make(link, error="m")
    out = io.BytesIO()
    qr.save(out, kind="png", scale=10, border=6, dark=BRAND_DARK, light=BRAND_LIGHT)
    return out.getvalue()


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
