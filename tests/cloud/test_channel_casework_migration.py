"""Migrations 0018_appeals_risk and 0024_channel_risk_watermark build the appeal and risk
tables exactly as the models declare them."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.cloud.migration_drift import drift

TABLES = frozenset({"channel_appeal", "channel_appeal_evidence", "channel_referral_override",
                    "channel_notification", "channel_risk_policy", "channel_risk_case",
                    "channel_scan_watermark"})


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, TABLES) == []
