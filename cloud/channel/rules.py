"""A project's channel rule versions (渠道规则): the history the engine judges by.

A project that never published rules is judged by the defaults of
domain/channel-rules.md, as version 1 in force since RULES_EPOCH; the first publication
stores that version too, so the table holds the whole history. Versions take effect now
or later, never in the past: a rule change must not rewrite what was already decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel.errors import RulesInvalid
from cloud.channel.models import RuleVersion
from cloud.identity.deps import Principal
from shared.attribution import Event, RuleSet, RulesHistory
from shared.timeutil import as_utc, utcnow

RULES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Set by the server, not by the caller.
_SERVER_FIELDS = frozenset({"version", "effective_from", "project_id"})


def defaults(project_id: int) -> RuleSet:
    return RuleSet(version=1, effective_from=RULES_EPOCH, project_id=str(project_id))


def versions(session: Session, project_id: int) -> list[RuleSet]:
    query = (select(RuleVersion).where(RuleVersion.project_id == project_id)
             .order_by(col(RuleVersion.version)))
    return of_rows(project_id, session.exec(query).all())


def of_rows(project_id: int, rows: Sequence[RuleVersion]) -> list[RuleSet]:
    """The versions of these stored rows (oldest first), or the defaults without any."""
    stored = [RuleSet.model_validate({**row.rules, "version": row.version,
                                      "effective_from": row.effective_from,
                                      "project_id": str(project_id)})
              for row in rows]
    return stored or [defaults(project_id)]


def history(session: Session, project_id: int) -> RulesHistory:
    return RulesHistory(versions=tuple(versions(session, project_id)))


def from_start(rules_history: RulesHistory, events: Sequence[Event]) -> RulesHistory:
    """Facts older than the first rule version (visits before the project published any)
    are judged by that first version: there were no other rules then."""
    first = rules_history.versions[0]
    earliest = min((e.at for e in events), default=first.effective_from)
    if earliest >= first.effective_from:
        return rules_history
    moved = first.model_copy(update={"effective_from": earliest})
    return RulesHistory(versions=(moved, *rules_history.versions[1:]))


def publish(session: Session, *, principal: Principal, project_id: int,
            parameters: dict[str, Any], effective_from: datetime | None) -> RuleSet:
    """Store the next version; it applies from `effective_from` (now when omitted)."""
    now = utcnow()
    start = as_utc(effective_from) if effective_from is not None else now
    if start < now:
        raise RulesInvalid("规则生效时间不能早于当前时间")
    # The project row's lock orders publications, the first one included.
    session.get(Project, project_id, with_for_update=True)
    existing = versions(session, project_id)
    latest = existing[-1]
    rules = proposal(parameters, after=existing, effective_from=start)
    first_publication = not session.exec(
        select(RuleVersion.id).where(RuleVersion.project_id == project_id)).first()
    for item in ([latest] if first_publication else []) + [rules]:
        session.add(RuleVersion(project_id=project_id, version=item.version,
                                effective_from=item.effective_from,
                                rules=_parameters(item), published_by=principal.user_id))
    session.flush()
    audit_service.record(session, action="channel.rules_publish", principal=principal,
                         object_type="project", object_id=str(project_id),
                         detail={"version": rules.version,
                                 "effective_from": rules.effective_from.isoformat()})
    return rules


def proposal(parameters: dict[str, Any], *, after: Sequence[RuleSet],
             effective_from: datetime) -> RuleSet:
    """The next version after `after` (a history's versions, oldest first) from these
    parameters, in force from `effective_from`; RulesInvalid (422) names what is wrong."""
    if _SERVER_FIELDS & parameters.keys():
        raise RulesInvalid("版本号、生效时间与项目由系统确定，不能在规则中填写")
    latest = after[-1]
    try:
        rules = RuleSet.model_validate({**parameters, "version": latest.version + 1,
                                        "effective_from": effective_from,
                                        "project_id": latest.project_id})
        RulesHistory(versions=(*after, rules))
    except ValidationError as exc:
        problems = "；".join(_problem(e["loc"], e["msg"]) for e in exc.errors(include_url=False))
        raise RulesInvalid(f"渠道规则不合法：{problems}") from exc
    return rules


def _problem(loc: tuple[int | str, ...], message: str) -> str:
    # A rule across fields (a warning longer than its window) has no location.
    text = message.removeprefix("Value error, ")
    return f"{'.'.join(map(str, loc))}: {text}" if loc else text


def _parameters(rules: RuleSet) -> dict[str, Any]:
    data: dict[str, Any] = rules.model_dump(mode="json", exclude=set(_SERVER_FIELDS))
    return data
