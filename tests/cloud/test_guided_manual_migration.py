"""Migration 0025 (带看 without a code, provisional answers kept) matches the models."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.cloud.migration_drift import drift


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, {"channel_qr_scan", "visit"}) == []
