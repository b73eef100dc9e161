"""Per-project reception settings on the appliance: the rules page's defaults until a
sales manager changes them here (each change a `settings_changed` rota event) or in the
HQ console (a `reception.settings` down-feed item, edge_agent.rota.feed); the newer
change wins (ADR 0051)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.settings import EdgeSettings
from edge_agent.store.models import ReceptionSettings
from shared.reception import DEFAULT_RULES, ReceptionRules, changes


def rota_project(settings: EdgeSettings) -> int | None:
    """The rota is the office's; its settings are those of the office's own project."""
    return settings.default_project_id


async def rules_of(session: AsyncSession, project_id: int | None) -> ReceptionRules:
    if project_id is None:
        return DEFAULT_RULES
    row = await session.get(ReceptionSettings, project_id)
    return DEFAULT_RULES if row is None else ReceptionRules.model_validate(row.rules)


async def save_rules(
    session: AsyncSession, project_id: int, rules: ReceptionRules, *, by: int, now: datetime
) -> dict[str, Any]:
    """Store the project's settings; returns what changed ({field: [old, new]})."""
    before = await rules_of(session, project_id)
    after = rules.model_dump(mode="json")
    row = await session.get(ReceptionSettings, project_id)
    if row is None:
        row = ReceptionSettings(project_id=project_id, rules=after, updated_by=by,
                                updated_at=now)
    else:
        row.rules, row.updated_by, row.updated_at = after, by, now
    session.add(row)
    await session.flush()
    return changes(before, rules)
