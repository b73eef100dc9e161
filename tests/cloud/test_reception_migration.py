"""Migration 0028 (reception: rota history, visit profiles) matches the models."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.cloud.migration_drift import drift


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, {"reception_rota_event", "visit_profile"}) == []
