"""Migration 0037 (the 公众号's token, notifications' push state, share events by age,
saved queries) matches the models on both databases, and goes down and up on SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine

from cloud.migrate import alembic_config, upgrade
from tests.cloud.migration_drift import drift

TABLES = {"channel_wechat_token", "channel_notification", "channel_share_event",
          "channel_saved_query"}


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, TABLES) == []


def test_down_and_up_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    lite = create_engine(url)
    assert drift(lite, TABLES) == []
    command.downgrade(alembic_config(url), "0032_visit_day_count")
    lite.dispose()
    names = inspect(lite).get_table_names()
    assert "channel_wechat_token" not in names and "channel_saved_query" not in names
    assert "push_state" not in {c["name"] for c in inspect(lite).get_columns(
        "channel_notification")}
    upgrade(url)
    assert drift(lite, TABLES) == []
    lite.dispose()


SCANS_TABLES = {"channel_referral", "channel_prospecting_task", "channel_wechat_token"}


def test_0042_matches_the_models_and_goes_down_and_up(engine: Engine, tmp_path: Path) -> None:
    assert drift(engine, SCANS_TABLES) == []
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    lite = create_engine(url)
    command.downgrade(alembic_config(url), "0038_customer_payment_method")
    lite.dispose()
    assert "reminded_at" not in {c["name"] for c in inspect(lite).get_columns(
        "channel_prospecting_task")}
    upgrade(url)
    assert drift(lite, SCANS_TABLES) == []
    lite.dispose()
