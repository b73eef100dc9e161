"""Versioned schema of the edge database, tracked in `PRAGMA user_version`.

Each version is plain DDL, and now and then a data step in Python, run in one IMMEDIATE
transaction together with the version bump, so a crash mid-upgrade leaves the previous
version intact. Never edit a released step: append a new one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from shared.crypto import FieldCipher

Step = str | Callable[[Connection, FieldCipher | None], None]

_V1 = (
    """
    CREATE TABLE sync_state (
        id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        next_seq INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
        last_acked_seq INTEGER NOT NULL DEFAULT 0,
        last_ack_at DATETIME,
        down_cursor INTEGER NOT NULL DEFAULT 0 CHECK (down_cursor >= 0),
        down_synced_at DATETIME,
        clock_skew_seconds FLOAT,
        CHECK (last_acked_seq >= 0 AND last_acked_seq < next_seq)
    )
    """,
    "INSERT INTO sync_state (id) VALUES (1)",
    """
    CREATE TABLE outbox (
        seq INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
        event_id CHAR(32) NOT NULL,
        type VARCHAR(64) NOT NULL,
        occurred_at DATETIME NOT NULL,
        payload_enc TEXT NOT NULL,
        created_at DATETIME NOT NULL,
        CONSTRAINT uq_outbox_event_id UNIQUE (event_id)
    )
    """,
    """
    CREATE TABLE rejected_event (
        seq INTEGER NOT NULL PRIMARY KEY,
        event_id CHAR(32),
        type VARCHAR(64),
        reason VARCHAR(200) NOT NULL,
        payload_enc TEXT,
        rejected_at DATETIME NOT NULL
    )
    """,
    """
    CREATE TABLE visit (
        id CHAR(32) NOT NULL PRIMARY KEY,
        project_id INTEGER NOT NULL,
        phone_enc TEXT NOT NULL,
        phone_bidx VARCHAR(64) NOT NULL,
        phone_masked VARCHAR(11) NOT NULL,
        name_enc TEXT,
        party_size INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 50),
        intent VARCHAR(200),
        source VARCHAR(32) NOT NULL,
        consultant_id INTEGER,
        occurred_at DATETIME NOT NULL,
        visit_date VARCHAR(10) NOT NULL,
        classification VARCHAR(16) NOT NULL
            CHECK (classification IN ('first_visit', 'return_visit')),
        provisional BOOLEAN NOT NULL,
        visit_number INTEGER NOT NULL CHECK (visit_number >= 1),
        owner_id INTEGER,
        owner_name VARCHAR(50),
        idempotency_key VARCHAR(128) NOT NULL,
        seq INTEGER NOT NULL,
        event_id CHAR(32) NOT NULL,
        CONSTRAINT uq_visit_idempotency_key UNIQUE (idempotency_key),
        CONSTRAINT uq_visit_seq UNIQUE (seq),
        CONSTRAINT uq_visit_customer_day UNIQUE (project_id, phone_bidx, visit_date)
    )
    """,
    "CREATE INDEX ix_visit_visit_date ON visit (visit_date)",
    """
    CREATE TABLE consultant (
        id INTEGER NOT NULL PRIMARY KEY,
        name VARCHAR(50) NOT NULL,
        active BOOLEAN NOT NULL,
        roles JSON NOT NULL,
        updated_at DATETIME NOT NULL
    )
    """,
    """
    CREATE TABLE project (
        id INTEGER NOT NULL PRIMARY KEY,
        name VARCHAR(100) NOT NULL,
        city VARCHAR(50),
        active BOOLEAN NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL
    )
    """,
    """
    CREATE TABLE customer_cache (
        "key" VARCHAR(128) NOT NULL PRIMARY KEY,
        project_id INTEGER NOT NULL,
        phone_bidx VARCHAR(64) NOT NULL,
        phone_masked VARCHAR(11),
        owner_id INTEGER,
        owner_name VARCHAR(50),
        visit_count INTEGER NOT NULL DEFAULT 0,
        first_visit_at DATETIME,
        last_visit_at DATETIME,
        protection_until DATETIME,
        customer_ref VARCHAR(64),
        updated_at DATETIME NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX ix_customer_cache_lookup ON customer_cache (project_id, phone_bidx)",
)

# Reception rota (轮岗): who is on duty today and in which order, and every change to it.
# No foreign key to consultant: a down-feed resync rewrites that table.
_V2_ROTA = (
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

# Consultants' follow-ups (跟进) from the PWA. The id is the phone's UUID, the request's
# idempotency key; the note is personal data, encrypted like the visit's phone and name.
_V3_FOLLOW_UPS = (
    """
    CREATE TABLE follow_up (
        id CHAR(32) NOT NULL PRIMARY KEY,
        visit_id CHAR(32),
        project_id INTEGER NOT NULL,
        phone_bidx VARCHAR(64) NOT NULL,
        phone_masked VARCHAR(11) NOT NULL,
        consultant_id INTEGER NOT NULL,
        kind VARCHAR(16) NOT NULL CHECK (kind IN ('call', 'visit', 'wechat', 'meeting')),
        reached BOOLEAN NOT NULL,
        note_enc TEXT,
        next_at DATETIME,
        occurred_at DATETIME NOT NULL,
        recorded_at DATETIME NOT NULL,
        seq INTEGER NOT NULL,
        event_id CHAR(32) NOT NULL,
        CONSTRAINT uq_follow_up_seq UNIQUE (seq)
    )
    """,
    "CREATE INDEX ix_follow_up_visit_id ON follow_up (visit_id)",
    "CREATE INDEX ix_follow_up_consultant ON follow_up (consultant_id, recorded_at)",
)

_V4_KEY_FINGERPRINT = (
    # Which site key the blind indexes were computed with, so a rotated key is noticed.
    "ALTER TABLE sync_state ADD COLUMN key_fingerprint VARCHAR(64)",
)

_V5_MY_CUSTOMERS = (
    # The cloud's last effective contact, so the 7-day follow-up rule can be shown offline.
    "ALTER TABLE customer_cache ADD COLUMN last_effective_at DATETIME",
    "ALTER TABLE customer_cache ADD COLUMN name_masked VARCHAR(20)",
    "CREATE INDEX ix_customer_cache_owner ON customer_cache (owner_id)",
    "CREATE INDEX ix_visit_owner ON visit (owner_id)",
    "CREATE INDEX ix_follow_up_customer ON follow_up (project_id, phone_bidx, occurred_at)",
)

_V6_EPOCH_RETENTION = (
    # The store's identity in the protocol: a store created afresh (or found restored)
    # gets a new one, so its seqs are never mistaken for another store's.
    "ALTER TABLE sync_state ADD COLUMN epoch CHAR(32)",
    "UPDATE sync_state SET epoch = lower(hex(randomblob(16)))",
    # Which generation of the cloud's down-feed the cursor belongs to.
    "ALTER TABLE sync_state ADD COLUMN down_generation VARCHAR(64)",
    # Acked rows stay for the retention window: a cloud restored to an older backup gets
    # them again.
    "ALTER TABLE outbox ADD COLUMN acked_at DATETIME",
    "CREATE INDEX ix_outbox_acked_at ON outbox (acked_at)",
)

# Edge sessions follow the cloud: its revocation list, and each token's last user action.
# Not cleared by a down-feed resync: a revocation must outlive a snapshot.
_V7_STAFF_SESSIONS = (
    """
    CREATE TABLE token_revocation (
        "key" VARCHAR(128) NOT NULL PRIMARY KEY,
        user_id INTEGER NOT NULL,
        session_id VARCHAR(64),
        reason VARCHAR(32) NOT NULL,
        revoked_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL
    )
    """,
    """
    CREATE TABLE staff_activity (
        token_id VARCHAR(64) NOT NULL PRIMARY KEY,
        user_id INTEGER NOT NULL,
        last_active_at DATETIME NOT NULL,
        expires_at DATETIME NOT NULL
    )
    """,
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


_V8_SEALED_INTENT: tuple[Step, ...] = (
    "ALTER TABLE visit ADD COLUMN intent_enc TEXT",
    _seal_intents,
    "ALTER TABLE visit DROP COLUMN intent",
)

# The visitor's consent to the notice, kept with the visit (issue #19 item 7): which
# notice, how it was given, the tablet's and the edge's time, and which tablet. Nullable:
# visits registered before v9 carry no consent record, and none is invented for them.
_V9_VISIT_CONSENT = (
    "ALTER TABLE visit ADD COLUMN consent_notice_version VARCHAR(32)",
    "ALTER TABLE visit ADD COLUMN consent_method VARCHAR(16)",
    "ALTER TABLE visit ADD COLUMN consent_accepted_at DATETIME",
    "ALTER TABLE visit ADD COLUMN consent_recorded_at DATETIME",
    "ALTER TABLE visit ADD COLUMN consent_tablet VARCHAR(64)",
)

# 扫码带看 (ADR 0024): the cloud's QR public keys, rule versions and live referrals
# (masked) from the down-feed, the nonces of codes used here (kept through a resync: a
# code must stay used), and the broker, referral and provisional answer of a visit.
_V10_GUIDED_VISITS = (
    """
    CREATE TABLE qr_key (
        kid VARCHAR(16) NOT NULL PRIMARY KEY,
        public_key VARCHAR(64) NOT NULL,
        active BOOLEAN NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL
    )
    """,
    """
    CREATE TABLE channel_rules (
        "key" VARCHAR(32) NOT NULL PRIMARY KEY,
        project_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        effective_from DATETIME NOT NULL,
        rules JSON NOT NULL,
        active BOOLEAN NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL
    )
    """,
    """
    CREATE TABLE referral_cache (
        "key" VARCHAR(16) NOT NULL PRIMARY KEY,
        id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        broker_id INTEGER NOT NULL,
        agency_id INTEGER,
        state VARCHAR(16) NOT NULL,
        reason_code VARCHAR(40) NOT NULL,
        phone_masked VARCHAR(11) NOT NULL,
        masked BOOLEAN NOT NULL DEFAULT 0,
        phone_key VARCHAR(32),
        rule_version INTEGER NOT NULL,
        created_at DATETIME NOT NULL,
        protection_until DATETIME,
        active BOOLEAN NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL
    )
    """,
    "CREATE INDEX ix_referral_cache_phone ON referral_cache (project_id, phone_key)",
    """
    CREATE TABLE qr_nonce (
        nonce VARCHAR(43) NOT NULL PRIMARY KEY,
        referral_id INTEGER NOT NULL,
        broker_id INTEGER NOT NULL,
        visit_id CHAR(32) NOT NULL,
        used_at DATETIME NOT NULL,
        expires_at DATETIME NOT NULL
    )
    """,
    "ALTER TABLE visit ADD COLUMN broker_id INTEGER",
    "ALTER TABLE visit ADD COLUMN referral_id INTEGER",
    "ALTER TABLE visit ADD COLUMN attribution JSON",
)

# 带看 without a code (ADR 0030): how a visit was guided (`qr` / `manual`), and the masked
# broker names of the cached referrals the receptionist picks from.
_V11_MANUAL_GUIDES = (
    "ALTER TABLE visit ADD COLUMN guide_method VARCHAR(8)",
    "UPDATE visit SET guide_method = 'qr' WHERE broker_id IS NOT NULL",
    "ALTER TABLE referral_cache ADD COLUMN broker_name VARCHAR(20)",
    "ALTER TABLE referral_cache ADD COLUMN broker_phone_masked VARCHAR(11)",
    "ALTER TABLE referral_cache ADD COLUMN agency_name VARCHAR(100)",
)

# Cameras found on the office LAN (issue #23, ADR 0035). Store version 13. Identity
# is the MAC, else the serial, else the WS-Discovery endpoint until the camera answers
# with credentials; the password is AES-GCM encrypted like personal data.
_V13_CAMERAS = (
    """
    CREATE TABLE camera (
        id CHAR(32) NOT NULL PRIMARY KEY,
        identity VARCHAR(210) NOT NULL,
        mac VARCHAR(17),
        serial VARCHAR(64),
        endpoint VARCHAR(200),
        brand VARCHAR(32) NOT NULL,
        manufacturer VARCHAR(64),
        model VARCHAR(64),
        firmware VARCHAR(64),
        host VARCHAR(255) NOT NULL,
        onvif_port INTEGER NOT NULL CHECK (onvif_port BETWEEN 1 AND 65535),
        username VARCHAR(64),
        password_enc TEXT,
        profiles JSON NOT NULL,
        name VARCHAR(40),
        status VARCHAR(16) NOT NULL
            CHECK (status IN ('discovered', 'confirmed', 'ignored')),
        onvif_state VARCHAR(16) NOT NULL
            CHECK (onvif_state IN ('ok', 'no_credentials', 'auth_failed', 'unreachable',
                                   'onvif_error')),
        last_error VARCHAR(200),
        discovered_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        confirmed_at DATETIME,
        updated_at DATETIME NOT NULL,
        CONSTRAINT uq_camera_identity UNIQUE (identity),
        CHECK ((username IS NULL) = (password_enc IS NULL))
    )
    """,
    "CREATE UNIQUE INDEX uq_camera_mac ON camera (mac) WHERE mac IS NOT NULL",
    "CREATE INDEX ix_camera_endpoint ON camera (endpoint)",
    "CREATE INDEX ix_camera_serial ON camera (serial)",
)

# Reception complete (ADR 0033): the visit's profile and rota facts, away states and
# penalties on the day's duty, suspensions across days, per-project reception settings.
_V12_RECEPTION = (
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

# Customer 360 on the consultant's phone (issue #22): the cloud's sales stage, ownership
# state (有效 / 逾期 / 公客 / 无效) and payment method of each cached customer, so the
# PWA's filters work from this store while the WAN is down.
_V14_CUSTOMER_360: tuple[Step, ...] = (
    "ALTER TABLE customer_cache ADD COLUMN status VARCHAR(20)",
    "ALTER TABLE customer_cache ADD COLUMN ownership VARCHAR(10)",
    "ALTER TABLE customer_cache ADD COLUMN payment_method VARCHAR(20)",
)

# Capture (issue #23 item 3, ADR 0040): each camera's sampling rate and which of its
# ONVIF profiles the reader opens (NULL: the smallest stream at least 640 wide). Store
# version 15.
_V15_CAPTURE = (
    "ALTER TABLE camera ADD COLUMN sample_fps FLOAT NOT NULL DEFAULT 2.0 "
    "CHECK (sample_fps > 0 AND sample_fps <= 10)",
    "ALTER TABLE camera ADD COLUMN capture_profile VARCHAR(64)",
)

# Faces (issue #23 items 5–7, ADR 0047): the site's switch as the cloud last sent it (off
# until then); the gallery of face identities (customers who consented, staff, temporary
# visitor identities) with their templates sealed; sightings per identity and camera; the
# separate face consents given at the kiosk; and the log of every access to face data,
# kept on the appliance with the data. Store version 16.
_V16_FACES = (
    """
    CREATE TABLE face_settings (
        id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        enabled BOOLEAN NOT NULL DEFAULT 0,
        signage_text VARCHAR(500),
        notice_version VARCHAR(32),
        crop_retention_days INTEGER NOT NULL DEFAULT 0
            CHECK (crop_retention_days BETWEEN 0 AND 30),
        changed_at DATETIME
    )
    """,
    "INSERT INTO face_settings (id) VALUES (1)",
    """
    CREATE TABLE face_person (
        id CHAR(32) NOT NULL PRIMARY KEY,
        kind VARCHAR(10) NOT NULL CHECK (kind IN ('visitor', 'customer', 'staff')),
        visit_id CHAR(32),
        consultant_id INTEGER,
        created_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        CHECK (kind != 'customer' OR visit_id IS NOT NULL)
    )
    """,
    "CREATE INDEX ix_face_person_last_seen ON face_person (last_seen_at)",
    """
    CREATE TABLE face_template (
        id INTEGER NOT NULL PRIMARY KEY,
        person_id CHAR(32) NOT NULL REFERENCES face_person (id) ON DELETE CASCADE,
        engine VARCHAR(16) NOT NULL,
        embedding_enc TEXT NOT NULL,
        created_at DATETIME NOT NULL
    )
    """,
    "CREATE INDEX ix_face_template_person ON face_template (person_id)",
    """
    CREATE TABLE face_sighting (
        id CHAR(32) NOT NULL PRIMARY KEY,
        person_id CHAR(32) NOT NULL REFERENCES face_person (id) ON DELETE CASCADE,
        camera_id CHAR(32) NOT NULL,
        first_seen_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        count INTEGER NOT NULL CHECK (count >= 1),
        score FLOAT,
        crop_enc TEXT,
        crop_expires_at DATETIME,
        CHECK (last_seen_at >= first_seen_at),
        CHECK ((crop_enc IS NULL) = (crop_expires_at IS NULL))
    )
    """,
    "CREATE INDEX ix_face_sighting_person_camera ON face_sighting (person_id, camera_id, "
    "last_seen_at)",
    """
    CREATE TABLE face_consent (
        id CHAR(32) NOT NULL PRIMARY KEY,
        visit_id CHAR(32) NOT NULL,
        person_id CHAR(32),
        granted BOOLEAN NOT NULL,
        notice_version VARCHAR(32) NOT NULL,
        method VARCHAR(32) NOT NULL,
        recorded_at DATETIME NOT NULL,
        linked_at DATETIME
    )
    """,
    "CREATE INDEX ix_face_consent_visit ON face_consent (visit_id)",
    """
    CREATE TABLE face_access (
        id INTEGER NOT NULL PRIMARY KEY,
        at DATETIME NOT NULL,
        actor VARCHAR(64) NOT NULL,
        action VARCHAR(32) NOT NULL,
        person_id CHAR(32),
        detail VARCHAR(200)
    )
    """,
    # The access log is append-only for the agent: only its own retention removes rows.
    """
    CREATE TRIGGER face_access_no_update BEFORE UPDATE ON face_access
    BEGIN SELECT RAISE(ABORT, 'face_access is append-only'); END
    """,
)

# The console's last change that replaced a project's reception settings here, shown to
# the sales manager (ADR 0051's follow-up). Store version 17.
_V17_SETTINGS_FROM_HQ: tuple[Step, ...] = (
    "ALTER TABLE reception_settings ADD COLUMN cloud_change JSON",
)

_V18_CALLS = (
    """
    CREATE TABLE incoming_call (
        id CHAR(32) NOT NULL PRIMARY KEY,
        project_id INTEGER NOT NULL,
        phone_enc TEXT NOT NULL,
        phone_bidx VARCHAR(64) NOT NULL,
        phone_masked VARCHAR(11) NOT NULL,
        name_enc TEXT,
        awareness VARCHAR(20),
        consultant_id INTEGER,
        recorded_by VARCHAR(64) NOT NULL,
        occurred_at DATETIME NOT NULL,
        call_date CHAR(10) NOT NULL,
        seq INTEGER NOT NULL,
        event_id CHAR(32) NOT NULL,
        CONSTRAINT uq_incoming_call_seq UNIQUE (seq)
    )
    """,
    "CREATE INDEX ix_incoming_call_day ON incoming_call (call_date, project_id)",
    "CREATE INDEX ix_incoming_call_customer ON incoming_call (project_id, phone_bidx)",
)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    _V1, _V2_ROTA, _V3_FOLLOW_UPS, _V4_KEY_FINGERPRINT, _V5_MY_CUSTOMERS, _V6_EPOCH_RETENTION,
    _V7_STAFF_SESSIONS, _V8_SEALED_INTENT, _V9_VISIT_CONSENT, _V10_GUIDED_VISITS,
    _V11_MANUAL_GUIDES, _V12_RECEPTION, _V13_CAMERAS, _V14_CUSTOMER_360, _V15_CAPTURE,
    _V16_FACES, _V17_SETTINGS_FROM_HQ, _V18_CALLS,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer agent; refuse rather than misread it."""


class MigrationNeedsKeys(RuntimeError):
    """A step encrypts stored data and was run without the agent's keys."""


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
