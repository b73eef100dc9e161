"""Migrations 0014_channel to 0021_channel_leads build the channel tables exactly as the
models declare them."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.cloud.migration_drift import drift

CHANNEL_TABLES = frozenset({"channel_agency", "channel_broker", "channel_rule_version",
                            "channel_referral", "channel_wechat_identity",
                            "channel_project_profile", "channel_campaign",
                            "channel_campaign_project", "channel_referral_review",
                            "channel_cooperation", "channel_qr_scan",
                            "channel_share", "channel_share_event", "channel_lead"})


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, CHANNEL_TABLES) == []
