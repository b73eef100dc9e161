"""What the sync protocol keeps beside the data: the site key's fingerprint (v4) and the
store's epoch, down-feed generation and acked-row retention (v6)."""

from __future__ import annotations

V4_KEY_FINGERPRINT = (
    # Which site key the blind indexes were computed with, so a rotated key is noticed.
    "ALTER TABLE sync_state ADD COLUMN key_fingerprint VARCHAR(64)",
)

V6_EPOCH_RETENTION = (
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
