"""The console's reception settings through the down-feed (`reception.settings`, ADR
0051): applied when newer than the appliance's own change, or when the cloud judged that
change older (`supersedes_at`). No rota event goes up for it: the cloud made it."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota.rules import save_rules
from edge_agent.store.models.reception import ReceptionSettings
from edge_agent.sync.down_kinds import DownContext, handles
from shared.reception import RECEPTION_SETTINGS, ReceptionSettingsItem

# updated_by of settings the cloud sent without naming a user.
CLOUD_USER = 0


@handles(RECEPTION_SETTINGS)
async def apply_reception_settings(session: AsyncSession, data: dict[str, Any],
                                   context: DownContext) -> None:
    item = ReceptionSettingsItem.model_validate(data)
    if context.key != str(item.project_id):
        raise ValueError(f"key {context.key!r} does not match project {item.project_id}")
    row = await session.get(ReceptionSettings, item.project_id)
    if not item.wins_over(row.updated_at if row is not None else None):
        return  # our own newer change stands; it is on its way up
    await save_rules(session, item.project_id, item.rules,
                     by=item.changed_by or CLOUD_USER, now=item.changed_at, via="cloud")
