"""Guided visits (带看): by QR code (v10) and by hand (v11)."""

from __future__ import annotations

# 扫码带看 (ADR 0024): the cloud's QR public keys, rule versions and live referrals
# (masked) from the down-feed, the nonces of codes used here (kept through a resync: a
# code must stay used), and the broker, referral and provisional answer of a visit.
V10_GUIDED_VISITS = (
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
V11_MANUAL_GUIDES = (
    "ALTER TABLE visit ADD COLUMN guide_method VARCHAR(8)",
    "UPDATE visit SET guide_method = 'qr' WHERE broker_id IS NOT NULL",
    "ALTER TABLE referral_cache ADD COLUMN broker_name VARCHAR(20)",
    "ALTER TABLE referral_cache ADD COLUMN broker_phone_masked VARCHAR(11)",
    "ALTER TABLE referral_cache ADD COLUMN agency_name VARCHAR(100)",
)
