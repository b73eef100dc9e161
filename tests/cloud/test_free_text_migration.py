"""Migration 0008 encrypts the free text already stored (visit intents, follow-up notes)
on both backends, refuses to run without the data keys when there is text to encrypt, and
downgrades back to clear text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text

from cloud.migrate import alembic_config, upgrade
from cloud.settings import CloudSettings
from shared.crypto import FieldCipher
from tests.services import scratch_database

BEFORE, AFTER = "0007_privacy_requests", "0008_free_text_encrypted"
NOW = "2026-11-27 10:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.db'}"
        return
    with scratch_database("anchang_mig_") as url:
        yield url


def old_rows(engine: Engine) -> None:
    """A visit with an intent and a follow-up with a note, as 0007 stored them (the rows
    they point at do not matter here: foreign keys are off for this connection)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text(
            "INSERT INTO visit (id, site_id, project_id, customer_id, party_size, intent, "
            "source, is_first_visit, visit_date, occurred_at, edge_occurred_at, "
            "time_corrected, event_seq, created_at) VALUES "
            "('v1', 's', 1, 1, 2, '三房，预算 500 万', 'natural', true, '2026-11-27', "
            ":now, :now, false, 1, :now)"), {"now": NOW})
        conn.execute(text(
            "INSERT INTO follow_up (id, site_id, project_id, customer_id, consultant_id, kind, "
            "reached, effective, note, occurred_at, recorded_via, created_at) VALUES "
            "('f1', 's', 1, 1, 1, 'call', true, true, '客户说周六带家人来', :now, 'edge', :now), "
            "('f2', 's', 1, 1, 1, 'call', false, false, '', :now, 'edge', :now)"), {"now": NOW})


def test_existing_intents_and_notes_are_encrypted_and_can_be_decrypted_back(
    url: str, settings: CloudSettings,
) -> None:
    upgrade(url, BEFORE)
    engine = create_engine(url)
    old_rows(engine)
    with pytest.raises(RuntimeError, match="data keys"):
        upgrade(url, AFTER)
    upgrade(url, AFTER, cipher=settings.cipher)

    columns = {t: {c["name"] for c in inspect(engine).get_columns(t)}
               for t in ("visit", "follow_up")}
    assert "intent" not in columns["visit"] and "note" not in columns["follow_up"]
    with engine.connect() as conn:
        intent = conn.execute(text("SELECT intent_enc FROM visit")).scalar_one()
        notes = dict(conn.execute(text("SELECT id, note_enc FROM follow_up")).all())
    cipher: FieldCipher = settings.cipher
    assert "三房" not in intent
    assert cipher.decrypt(intent, context="visit.intent") == "三房，预算 500 万"
    assert cipher.decrypt(notes["f1"], context="follow_up.note") == "客户说周六带家人来"
    assert notes["f2"] is None  # no note is no ciphertext

    config = alembic_config(url)
    config.attributes["cipher"] = cipher
    command.downgrade(config, BEFORE)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT intent FROM visit")).scalar_one() == "三房，预算 500 万"
        assert dict(conn.execute(text("SELECT id, note FROM follow_up")).all()) == {
            "f1": "客户说周六带家人来", "f2": ""}
    engine.dispose()
