"""Reception at the kiosk: the rota (v2), the visit's sealed intent (v8) and consent
(v9), reception complete (v12) and the settings changed from HQ (v17)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from edge_agent.store.migrations.step import MigrationNeedsKeys, Step
from shared.crypto import FieldCipher

# Reception rota (轮岗): who is on duty today and in which order, and every change to it.
# No foreign key to consultant: a down-feed resync rewrites that table.
V2_ROTA = (
    """
    CREATE TABLE rota_duty (
        duty_date VARCHAR(10) NOT NULL,
        consultant_id INTEGER NOT NULL,
        on_duty BOOLEAN NOT NULL,
        queue_pos INTEGER NOT NULL CHECK (queue_pos >= 1),
        checked_in_at DATETIME NOT NULL,
        checked_out_at DATETIME,
        updated_at DATETIME NOT NULL,
        PRIMARY KEY (duty_date, consultant_id)
    )
    """,
    """
    CREATE TABLE rota_event (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        duty_date VARCHAR(10) NOT NULL,
        occurred_at DATETIME NOT NULL,
        consultant_id INTEGER NOT NULL,
        action VARCHAR(32) NOT NULL
            CHECK (action IN ('check_in', 'check_out', 'turn_consumed')),
        actor VARCHAR(64) NOT NULL,
        reason VARCHAR(200) NOT NULL,
        visit_id CHAR(32),
        position_before INTEGER,
        position_after INTEGER
    )
    """,
    "CREATE INDEX ix_rota_event_duty_date ON rota_event (duty_date, id)",
)

INTENT_CONTEXT = "visit.intent"


def _seal_intents(conn: Connection, cipher: FieldCipher | None) -> None:
    """A visit's intent is free text about a person: encrypted like the note of a
    follow-up. Stores that hold some need the agent's keys to move on."""
    rows = conn.exec_driver_sql(
        "SELECT id, intent FROM visit WHERE intent IS NOT NULL AND intent <> ''").all()
    if not rows:
        return
    if cipher is None:
        raise MigrationNeedsKeys("existing visit intents are encrypted by schema v8")
    conn.exec_driver_sql(
        "UPDATE visit SET intent_enc = ? WHERE id = ?",
        [(cipher.encrypt(intent, context=INTENT_CONTEXT), visit_id) for visit_id, intent in rows])


V8_SEALED_INTENT: tuple[Step, ...] = (
    "ALTER TABLE visit ADD COLUMN intent_enc TEXT",
    _seal_intents,
    "ALTER TABLE visit DROP COLUMN intent",
)

# The visitor's consent to the notice, kept with the visit (issue #19 item 7): which
# notice, how it was given, the tablet's and the edge's time, and which tablet. Nullable:
# visits registered before v9 carry no consent record, and none is invented for them.
V9_VISIT_CONSENT = (
    "ALTER TABLE visit ADD COLUMN consent_notice_version VARCHAR(32)",
    "ALTER TABLE visit ADD COLUMN consent_method VARCHAR(16)",
    "ALTER TABLE visit ADD COLUMN consent_accepted_at DATETIME",
    "ALTER TABLE visit ADD COLUMN consent_recorded_at DATETIME",
    "ALTER TABLE visit ADD COLUMN consent_tablet VARCHAR(64)",
)

# Reception complete (ADR 0033): the visit's profile and rota facts, away states and
# penalties on the day's duty, suspensions across days, per-project reception settings.
V12_RECEPTION = (
    "ALTER TABLE visit ADD COLUMN profile JSON",
    "ALTER TABLE visit ADD COLUMN profile_revision INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE visit ADD COLUMN consumed_turn BOOLEAN",
    "ALTER TABLE visit ADD COLUMN stand_in_for INTEGER",
    "ALTER TABLE visit ADD COLUMN stand_in_share INTEGER",
    "ALTER TABLE visit ADD COLUMN claimable_until VARCHAR(10)",
    "ALTER TABLE visit ADD COLUMN phone_region VARCHAR(40)",
    "ALTER TABLE rota_duty ADD COLUMN away_reason VARCHAR(20)",
    "ALTER TABLE rota_duty ADD COLUMN away_since DATETIME",
    "ALTER TABLE rota_duty ADD COLUMN skip_turns INTEGER NOT NULL DEFAULT 0",
    # The event table is rebuilt: SQLite cannot widen the CHECK on `action`.
    """
    CREATE TABLE rota_event_v12 (
        id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        duty_date VARCHAR(10) NOT NULL,
        occurred_at DATETIME NOT NULL,
        consultant_id INTEGER NOT NULL,
        action VARCHAR(32) NOT NULL CHECK (action IN (
            'check_in', 'check_out', 'turn_consumed', 'turn_not_counted', 'away', 'back',
            'penalty', 'turn_skipped', 'suspended', 'stand_in', 'claimed',
            'settings_changed')),
        actor VARCHAR(64) NOT NULL,
        reason VARCHAR(200) NOT NULL,
        visit_id CHAR(32),
        position_before INTEGER,
        position_after INTEGER,
        away_reason VARCHAR(20),
        detail JSON
    )
    """,
    """
    INSERT INTO rota_event_v12 (id, duty_date, occurred_at, consultant_id, action, actor,
        reason, visit_id, position_before, position_after)
    SELECT id, duty_date, occurred_at, consultant_id, action, actor, reason, visit_id,
        position_before, position_after FROM rota_event
    """,
    "DROP TABLE rota_event",
    "ALTER TABLE rota_event_v12 RENAME TO rota_event",
    "CREATE INDEX ix_rota_event_duty_date ON rota_event (duty_date, id)",
    """
    CREATE TABLE rota_suspension (
        id INTEGER NOT NULL PRIMARY KEY,
        consultant_id INTEGER NOT NULL,
        until_date VARCHAR(10) NOT NULL,
        reason VARCHAR(200) NOT NULL,
        actor VARCHAR(64) NOT NULL,
        created_at DATETIME NOT NULL
    )
    """,
    "CREATE INDEX ix_rota_suspension_consultant ON rota_suspension (consultant_id, until_date)",
    """
    CREATE TABLE reception_settings (
        project_id INTEGER NOT NULL PRIMARY KEY,
        rules JSON NOT NULL,
        updated_by INTEGER NOT NULL,
        updated_at DATETIME NOT NULL
    )
    """,
)

# The console's last change that replaced a project's reception settings here, shown to
# the sales manager (ADR 0051's follow-up). Store version 17.
V17_SETTINGS_FROM_HQ: tuple[Step, ...] = (
    "ALTER TABLE reception_settings ADD COLUMN cloud_change JSON",
)
