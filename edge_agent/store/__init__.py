"""The edge agent's local SQLite database: connection rules, schema, repositories."""

from edge_agent.store.db import Store

__all__ = ["Store"]
