"""audit_log: one child per parent (a fork fails loudly), and retention may delete rows
older than 180 days — only those, and on PostgreSQL only through audit_log_prune()

Revision ID: 0012_audit_chain
Revises: 0011_visit_consent
Create Date: 2026-11-27

The append-only trigger now lets a DELETE through when the row is older than the legal
floor (180 days, 网络安全法 art. 21) and, on PostgreSQL, only inside audit_log_prune(), a
SECURITY DEFINER function: the application's role keeps no DELETE grant on the table
(cloud/grants.py) and can remove nothing younger than the floor, whatever it runs.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0012_audit_chain"
# The sec-audit branch was cut from 0010; the merge re-chains it after 0011.
down_revision: str | None = "0011_visit_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOOR = "180 days"

GUARD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('anchang.audit_prune', true) = 'on'
            AND OLD.at < now() - interval '{FLOOR}' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

PRUNE_FUNCTION = """
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

OLD_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.create_index("uq_audit_log_prev_hash", "audit_log", ["prev_hash"], unique=True)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite stores the time as naive UTC text, which orders like datetime('now').
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            f"WHEN OLD.at >= datetime('now', '-{FLOOR}') "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END"
        )
    if dialect == "postgresql":
        op.execute(GUARD_FUNCTION)
        op.execute(PRUNE_FUNCTION)
        op.execute("REVOKE ALL ON FUNCTION audit_log_prune(bigint) FROM PUBLIC")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END"
        )
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_prune(bigint)")
        op.execute(OLD_GUARD_FUNCTION)
    op.drop_index("uq_audit_log_prev_hash", table_name="audit_log")
