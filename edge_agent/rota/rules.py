"""Per-project reception settings on the appliance: the rules page's defaults until a
sales manager changes them here (each change a `settings_changed` rota event) or in the
HQ console (a `reception.settings` down-feed item, edge_agent.rota.feed); the newer
change wins (ADR 0051). A console change that altered the values here is kept beside
them until the next change made here, so the manager can be told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.settings import EdgeSettings
from edge_agent.store.models.reception import ReceptionSettings
from edge_agent.store.models.site import Consultant
from shared.reception import DEFAULT_RULES, RULE_LABELS, ReceptionRules, changes
from shared.timeutil import as_utc

# Where a change was made: on this appliance, or in the HQ console (the down-feed).
Via = Literal["site", "cloud"]


@dataclass(frozen=True)
class HqChange:
    """The console's last change that replaced values here."""

    at: datetime
    by_name: str | None
    fields: list[str]


def rota_project(settings: EdgeSettings) -> int | None:
    """The rota is the office's; its settings are those of the office's own project."""
    return settings.default_project_id


async def rules_of(session: AsyncSession, project_id: int | None) -> ReceptionRules:
    if project_id is None:
        return DEFAULT_RULES
    row = await session.get(ReceptionSettings, project_id)
    return DEFAULT_RULES if row is None else ReceptionRules.model_validate(row.rules)


async def save_rules(
    session: AsyncSession, project_id: int, rules: ReceptionRules, *, by: int, now: datetime,
    via: Via,
) -> dict[str, Any]:
    """Store the project's settings; returns what changed ({field: [old, new]})."""
    before = await rules_of(session, project_id)
    after = rules.model_dump(mode="json")
    changed = changes(before, rules)
    row = await session.get(ReceptionSettings, project_id)
    if row is None:
        row = ReceptionSettings(project_id=project_id, rules=after, updated_by=by,
                                updated_at=now)
    else:
        row.rules, row.updated_by, row.updated_at = after, by, now
    if changed:
        # An item that changes nothing (our own change echoed back) keeps the notice.
        row.cloud_change = ({"at": as_utc(now).isoformat(), "by": by, "fields": list(changed)}
                            if via == "cloud" else None)
    session.add(row)
    await session.flush()
    return changed


async def hq_change(session: AsyncSession, project_id: int | None) -> HqChange | None:
    """The console's last change that replaced values here, unless one made here since;
    who made it by name when they are on this office's roster."""
    row = None if project_id is None else await session.get(ReceptionSettings, project_id)
    if row is None or row.cloud_change is None:
        return None
    change = row.cloud_change
    member = await session.get(Consultant, change["by"]) if change["by"] else None
    return HqChange(at=datetime.fromisoformat(change["at"]),
                    by_name=member.name if member is not None else None,
                    fields=[RULE_LABELS.get(f, f) for f in change["fields"]])
