"""free text about a person encrypted at rest: visit.intent → intent_enc, follow_up.note →
note_enc (AES-GCM, contexts visit.intent and follow_up.note)

Revision ID: 0008_free_text_encrypted
Revises: 0007_privacy_requests
Create Date: 2026-11-27

Existing text is encrypted here, so this step needs the data keys: `anchang db upgrade`
passes the cloud's cipher (cloud.migrate.upgrade). Downgrading puts the text back in clear.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from shared.crypto import FieldCipher

revision: str = "0008_free_text_encrypted"
down_revision: str | None = "0007_privacy_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, clear column, its definition, sealed column, its length, AES-GCM context)
FIELDS = (
    ("visit", "intent", sa.String(200), "intent_enc", 1200, "visit.intent"),
    ("follow_up", "note", sa.String(500), "note_enc", 2800, "follow_up.note"),
)


def _cipher() -> FieldCipher:
    cipher = context.config.attributes.get("cipher")
    if cipher is None:
        raise RuntimeError("existing intents and notes are encrypted by this migration: run "
                           "it through `anchang db upgrade`, which has the data keys")
    assert isinstance(cipher, FieldCipher)
    return cipher


def upgrade() -> None:
    conn = op.get_bind()
    # Read first: SQLite runs DDL outside the transaction, so a missing key must stop the
    # step before any column changes.
    clear_rows = {
        table: conn.execute(sa.text(
            f"SELECT id, {clear} FROM {table} WHERE {clear} IS NOT NULL AND {clear} <> ''"
        )).all()
        for table, clear, *_ in FIELDS
    }
    cipher = _cipher() if any(clear_rows.values()) else None
    for table, clear, _, sealed, length, purpose in FIELDS:
        op.add_column(table, sa.Column(sealed, sa.String(length), nullable=True))
        if clear_rows[table] and cipher is not None:
            conn.execute(sa.text(f"UPDATE {table} SET {sealed} = :sealed WHERE id = :id"),
                         [{"id": row[0], "sealed": cipher.encrypt(row[1], context=purpose)}
                          for row in clear_rows[table]])
        with op.batch_alter_table(table) as batch:
            batch.drop_column(clear)


def downgrade() -> None:
    conn = op.get_bind()
    for table, clear, definition, sealed, _, purpose in FIELDS:
        op.add_column(table, sa.Column(clear, definition, nullable=True))
        rows = conn.execute(sa.text(
            f"SELECT id, {sealed} FROM {table} WHERE {sealed} IS NOT NULL")).all()
        if rows:
            cipher = _cipher()
            conn.execute(sa.text(f"UPDATE {table} SET {clear} = :clear WHERE id = :id"),
                         [{"id": row[0], "clear": cipher.decrypt(row[1], context=purpose)}
                          for row in rows])
        if table == "follow_up":
            conn.execute(sa.text("UPDATE follow_up SET note = '' WHERE note IS NULL"))
        with op.batch_alter_table(table) as batch:
            if table == "follow_up":
                batch.alter_column("note", existing_type=definition, nullable=False)
            batch.drop_column(sealed)
