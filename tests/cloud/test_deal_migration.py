"""Migration 0033 (deals) matches the models on both databases, goes down and up again
on SQLite, and the live-deal index refuses a second live deal on SQLite too."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from cloud.migrate import alembic_config, upgrade
from tests.cloud.migration_drift import drift

TABLES = {"deal", "deal_change", "deal_payment", "deal_call", "deal_setting", "deal_co_buyer"}
_INSERT = text(
    "INSERT INTO deal (project_id, customer_id, unit_id, kind, status, unit_carried,"
    " buyer_name_enc, payment_method, price_fen, list_price_fen, floor_price_fen,"
    " amount_fen, carried_fen, consultant_id, created_by, created_at, decision_note,"
    " ended_reason, updated_at) VALUES (1, 1, 1, 'subscription', :status, false, 'x', 'full',"
    " 0, 0, 0, 0, 0, 1, 1, '2026-11-28 00:00:00+00:00', '', '', '2026-11-28 00:00:00+00:00')")


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, TABLES) == []


def test_down_and_up_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    lite = create_engine(url)
    assert drift(lite, TABLES) == []
    command.downgrade(alembic_config(url), "0032_visit_day_count")
    lite.dispose()
    assert "deal" not in inspect(lite).get_table_names()
    upgrade(url)
    assert drift(lite, TABLES) == []
    lite.dispose()


def test_sqlite_holds_one_live_deal_per_unit(tmp_path: Path) -> None:
    """The embedded default keeps the rule too (foreign keys are off in this bare
    connection: only the index is under test)."""
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    lite = create_engine(url)
    with lite.begin() as conn:
        conn.execute(_INSERT, {"status": "cancelled"})
        conn.execute(_INSERT, {"status": "voided"})
        conn.execute(_INSERT, {"status": "draft"})
    with pytest.raises(IntegrityError), lite.begin() as conn:
        conn.execute(_INSERT, {"status": "approved"})
    lite.dispose()
