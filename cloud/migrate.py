"""Run Alembic migrations programmatically (CLI, demo and tests use the same path)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.crypto import FieldCipher

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head", *,
            cipher: FieldCipher | None = None) -> None:
    """`cipher`: for the steps that encrypt existing rows (a fresh database needs none)."""
    config = alembic_config(database_url)
    config.attributes["cipher"] = cipher
    command.upgrade(config, revision)
