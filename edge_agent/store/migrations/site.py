"""The site's staff sessions as the cloud rules them (v7)."""

from __future__ import annotations

# Edge sessions follow the cloud: its revocation list, and each token's last user action.
# Not cleared by a down-feed resync: a revocation must outlive a snapshot.
V7_STAFF_SESSIONS = (
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
