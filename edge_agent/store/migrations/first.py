"""Store version 1: the sync state and outbox, visits, the roster, projects and the
customer cache, as the first agent shipped them."""

from __future__ import annotations

V1 = (
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
