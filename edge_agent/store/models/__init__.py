"""SQLModel tables of the edge database, a module per domain (their base in `base`).

Importing any of them imports them all, so EdgeModel.metadata is complete (the schema
test, the personal-data inventory). The cameras' and faces' tables live in their own
packages (edge_agent.cameras.models, edge_agent.faces.models).
"""

from edge_agent.store.models import customers, guided, reception, site, sync

__all__ = ["customers", "guided", "reception", "site", "sync"]
