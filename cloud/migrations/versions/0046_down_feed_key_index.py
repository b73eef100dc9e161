"""sync: the down-feed's items by site, kind and key

The down request compares each derived kind with the feed's latest item per key
(`feed._latest_items`: the newest offset of each key of one site and kind), and an
erasure deletes one customer's items by key; with only (site_id, offset) indexed both
read the site's whole feed history (ADR 0058).

Revision ID: 0046_down_feed_key_index
Revises: 0045_call_register
Create Date: 2026-11-29
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0046_down_feed_key_index"
down_revision: str | None = "0045_call_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_down_feed_site_kind_key", "down_feed",
                    ["site_id", "kind", "key", "offset"])


def downgrade() -> None:
    op.drop_index("ix_down_feed_site_kind_key", table_name="down_feed")
