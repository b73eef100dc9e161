"""Customers on the consultant's phone: follow-ups (v3), my customers (v5), customer
360 (v14) and incoming calls (v18)."""

from __future__ import annotations

from edge_agent.store.migrations.step import Step

# Consultants' follow-ups (跟进) from the PWA. The id is the phone's UUID, the request's
# idempotency key; the note is personal data, encrypted like the visit's phone and name.
V3_FOLLOW_UPS = (
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

V5_MY_CUSTOMERS = (
    # The cloud's last effective contact, so the 7-day follow-up rule can be shown offline.
    "ALTER TABLE customer_cache ADD COLUMN last_effective_at DATETIME",
    "ALTER TABLE customer_cache ADD COLUMN name_masked VARCHAR(20)",
    "CREATE INDEX ix_customer_cache_owner ON customer_cache (owner_id)",
    "CREATE INDEX ix_visit_owner ON visit (owner_id)",
    "CREATE INDEX ix_follow_up_customer ON follow_up (project_id, phone_bidx, occurred_at)",
)

# Customer 360 on the consultant's phone (issue #22): the cloud's sales stage, ownership
# state (有效 / 逾期 / 公客 / 无效) and payment method of each cached customer, so the
# PWA's filters work from this store while the WAN is down.
V14_CUSTOMER_360: tuple[Step, ...] = (
    "ALTER TABLE customer_cache ADD COLUMN status VARCHAR(20)",
    "ALTER TABLE customer_cache ADD COLUMN ownership VARCHAR(10)",
    "ALTER TABLE customer_cache ADD COLUMN payment_method VARCHAR(20)",
)

V18_CALLS = (
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
