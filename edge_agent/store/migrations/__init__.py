"""Versioned schema of the edge database, tracked in `PRAGMA user_version`.

Each version is plain DDL, and now and then a data step in Python, run in one IMMEDIATE
transaction together with the version bump, so a crash mid-upgrade leaves the previous
version intact. Never edit a released step: append a new one. The versions live in the
modules of their domain; MIGRATIONS below is their one order.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from edge_agent.store.migrations.cameras import V13_CAMERAS, V15_CAPTURE, V16_FACES
from edge_agent.store.migrations.customers import (
    V3_FOLLOW_UPS,
    V5_MY_CUSTOMERS,
    V14_CUSTOMER_360,
    V18_CALLS,
)
from edge_agent.store.migrations.first import V1
from edge_agent.store.migrations.guided import V10_GUIDED_VISITS, V11_MANUAL_GUIDES
from edge_agent.store.migrations.reception import (
    V2_ROTA,
    V8_SEALED_INTENT,
    V9_VISIT_CONSENT,
    V12_RECEPTION,
    V17_SETTINGS_FROM_HQ,
)
from edge_agent.store.migrations.site import V7_STAFF_SESSIONS
from edge_agent.store.migrations.step import Step
from edge_agent.store.migrations.sync import V4_KEY_FINGERPRINT, V6_EPOCH_RETENTION
from shared.crypto import FieldCipher

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    V1, V2_ROTA, V3_FOLLOW_UPS, V4_KEY_FINGERPRINT, V5_MY_CUSTOMERS, V6_EPOCH_RETENTION,
    V7_STAFF_SESSIONS, V8_SEALED_INTENT, V9_VISIT_CONSENT, V10_GUIDED_VISITS,
    V11_MANUAL_GUIDES, V12_RECEPTION, V13_CAMERAS, V14_CUSTOMER_360, V15_CAPTURE,
    V16_FACES, V17_SETTINGS_FROM_HQ, V18_CALLS,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer agent; refuse rather than misread it."""


def schema_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def upgrade(conn: Connection, cipher: FieldCipher | None = None) -> int:
    """Bring the schema to SCHEMA_VERSION inside the caller's (IMMEDIATE) transaction;
    `cipher` for the steps that encrypt stored rows (a new store needs none)."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema v{current} is newer than this agent (v{SCHEMA_VERSION})"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        for step in MIGRATIONS[version - 1]:
            if isinstance(step, str):
                conn.exec_driver_sql(step)
            else:
                step(conn, cipher)
        conn.exec_driver_sql(f"PRAGMA user_version = {version:d}")
    return SCHEMA_VERSION
