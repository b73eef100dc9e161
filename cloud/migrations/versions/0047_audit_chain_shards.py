"""audit_log: several hash chains (shards), each with its own lock, parent and genesis

Every row names its shard; the rows already written are shard 0 and keep verifying (its
genesis and its rows' hashes are the single chain's). Retention archives and deletes per
shard, so audit_log_prune() takes the shard: the one-argument function goes, with its
grant (run `anchang db grant-app-role` again after the upgrade). ADR 0059.

Revision ID: 0047_audit_chain_shards
Revises: 0046_down_feed_key_index
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0047_audit_chain_shards"
down_revision: str | None = "0046_down_feed_key_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRUNE_FUNCTION = """
CREATE FUNCTION audit_log_prune(chain_shard integer, through_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    removed bigint;
BEGIN
    PERFORM set_config('anchang.audit_prune', 'on', true);
    DELETE FROM audit_log WHERE shard = chain_shard AND id <= through_id;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('anchang.audit_prune', 'off', true);
    RETURN removed;
END;
$$
"""

OLD_PRUNE_FUNCTION = """
CREATE FUNCTION audit_log_prune(through_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    removed bigint;
BEGIN
    PERFORM set_config('anchang.audit_prune', 'on', true);
    DELETE FROM audit_log WHERE id <= through_id;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('anchang.audit_prune', 'off', true);
    RETURN removed;
END;
$$
"""


def upgrade() -> None:
    # A constant default: PostgreSQL records it without rewriting the table (no row
    # trigger fires), and every existing row reads as shard 0.
    op.add_column("audit_log", sa.Column("shard", sa.SmallInteger(), nullable=False,
                                         server_default=sa.text("0")))
    op.create_index("ix_audit_log_shard_id", "audit_log", ["shard", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_prune(bigint)")
        op.execute(PRUNE_FUNCTION)
        op.execute("REVOKE ALL ON FUNCTION audit_log_prune(integer, bigint) FROM PUBLIC")


def downgrade() -> None:
    bind = op.get_bind()
    # One chain cannot hold the rows of several: their links would break.
    if bind.execute(sa.text("SELECT 1 FROM audit_log WHERE shard <> 0 LIMIT 1")).first():
        raise RuntimeError("audit_log has rows in shards other than 0: they cannot be "
                           "merged into one chain, so 0047 cannot be downgraded")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_prune(integer, bigint)")
        op.execute(OLD_PRUNE_FUNCTION)
        op.execute("REVOKE ALL ON FUNCTION audit_log_prune(bigint) FROM PUBLIC")
    op.drop_index("ix_audit_log_shard_id", table_name="audit_log")
    # In place (SQLite ≥ 3.35 too): a batch copy of the table would drop its triggers.
    op.drop_column("audit_log", "shard")
