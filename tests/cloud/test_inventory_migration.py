"""Migration 0027 (units, batches, holds, the 销控 log) matches the models on both
databases, and goes down and up again on SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine

from cloud.migrate import alembic_config, upgrade
from tests.cloud.migration_drift import drift

TABLES = {"building", "unit", "release_batch", "unit_hold", "unit_log", "inventory_project"}


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, TABLES) == []


def test_down_and_up_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    lite = create_engine(url)
    assert drift(lite, TABLES) == []
    command.downgrade(alembic_config(url), "0026_referral_masked_index")
    lite.dispose()
    columns = {c["name"] for c in inspect(lite).get_columns("unit")}
    assert "code" in columns and "unit_log" not in inspect(lite).get_table_names()
    upgrade(url)
    assert drift(lite, TABLES) == []
    lite.dispose()
