"""What a referral needs to know before it is judged, in one statement: the broker and
their agency (may they refer?), whether the project exists and cooperates with that
agency, and the stamps of the project's rule versions and risk policy
(cloud.channel.project_config). Each was a statement of its own — seven with the ORM
entities they built — on the path every broker's referral takes.

The rules are those of cloud.channel.partners.can_refer and cloud.channel.cooperation's:
a broker refers while active, and an agency's broker while the agency is active too; a
project that lists cooperating agencies admits only their brokers; individual
referrers (no agency) may refer to any project.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

from cloud.channel.project_config import POLICY_STAMP, RULES_STAMP
from cloud.db import is_postgres


@dataclass(frozen=True)
class ReferralContext:
    broker_id: int
    agency_id: int | None
    team: str | None  # the agency's channel team
    may_refer: bool
    project_found: bool
    cooperating: bool
    rules_stamp: str | None  # None on SQLite: nothing cached
    policy_stamp: str | None


def _statement(stamps: bool) -> str:
    rules, policy = ((RULES_STAMP.format(p=":project"), POLICY_STAMP.format(p=":project"))
                     if stamps else ("NULL", "NULL"))
    # Built once from this module's constants; the values are bound parameters.
    return f"""
        SELECT b.id, b.agency_id, a.team,
               b.status = 'active' AND (b.agency_id IS NULL OR a.status = 'active'),
               EXISTS (SELECT 1 FROM project WHERE id = :project),
               b.agency_id IS NULL
                 OR NOT EXISTS (SELECT 1 FROM channel_cooperation WHERE project_id = :project)
                 OR EXISTS (SELECT 1 FROM channel_cooperation
                            WHERE project_id = :project AND agency_id = b.agency_id),
               {rules}, {policy}
        FROM channel_broker b LEFT JOIN channel_agency a ON a.id = b.agency_id
        WHERE b.user_id = :user"""  # noqa: S608


_POSTGRES = text(_statement(stamps=True))
_PLAIN = text(_statement(stamps=False))


def read(session: Session, *, user_id: int, project_id: int) -> ReferralContext | None:
    """The context of the broker who is user `user_id`; None when they are no broker."""
    row = session.execute(_POSTGRES if is_postgres(session) else _PLAIN,
                          {"user": user_id, "project": project_id}).first()
    if row is None:
        return None
    broker_id, agency_id, team, may_refer, found, cooperating, rules, policy = row
    return ReferralContext(broker_id=broker_id, agency_id=agency_id, team=team,
                           may_refer=bool(may_refer), project_found=bool(found),
                           cooperating=bool(cooperating), rules_stamp=rules,
                           policy_stamp=policy)
