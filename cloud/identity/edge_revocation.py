"""Edge tokens follow the cloud session: the revocation list fed down to the appliances.

An edge token is checked offline by the appliance, so ending it needs a message: the
down-feed kind `revocation`, appended in the transaction of the change to every linked
site the user is scoped to (the only sites that issue the user edge tokens). Two keys:

- `session:{sid}` — a logout: the tokens issued to that cloud session end;
- `user:{id}` — a password change, a reset, disabling: every token of the user issued
  at or before `revoked_at` ends (a later login gets a new one).

The appliance polls the feed every `down_poll_seconds` (10 s), so while the WAN is up a
revocation takes effect within one poll and the batch's round trip (docs/security.md
states the bound the test holds it to). Entries matter for one token lifetime (12 h);
the feed's retention prunes them like any other item.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from cloud.identity.models import UserScope
from cloud.identity.principal import Principal
from cloud.sync.models import DownFeed, SiteLink
from shared.timeutil import iso, utcnow

KIND = "revocation"


def revoke_session(session: Session, *, principal: Principal, reason: str) -> None:
    if principal.session_id is None:
        return
    _announce(session, user_id=principal.user_id, key=f"session:{principal.session_id}",
              session_id=principal.session_id, reason=reason)


def revoke_user(session: Session, *, user_id: int, reason: str) -> None:
    _announce(session, user_id=user_id, key=f"user:{user_id}", session_id=None, reason=reason)


def _announce(
    session: Session, *, user_id: int, key: str, session_id: str | None, reason: str,
    now: datetime | None = None,
) -> None:
    sites = session.exec(
        select(SiteLink.site_id)
        .join(UserScope, col(UserScope.site_id) == SiteLink.site_id)
        .where(UserScope.user_id == user_id)
    ).all()
    data = {"user_id": user_id, "session_id": session_id, "reason": reason,
            "revoked_at": iso(now or utcnow())}
    session.add_all([DownFeed(site_id=site_id, kind=KIND, key=key, data=data)
                     for site_id in sites])
    session.flush()
