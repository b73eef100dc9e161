"""Fixtures of the cloud tests (the helpers live in tests/cloud/__init__.py and
tests/cloud/sales_world.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cloud.settings import CloudSettings
from tests.cloud.sales_world import build_world


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> dict[str, Any]:
    return build_world(db, settings)


@pytest.fixture
def run(settings: CloudSettings, db: Session) -> CliRunner:
    """Runs `anchang …` commands against the test database."""
    return CliRunner(env={
        "ANCHANG_CLOUD_DATABASE_URL": settings.database_url,
        "ANCHANG_CLOUD_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "ANCHANG_CLOUD_DATA_KEYS": settings.data_keys.get_secret_value(),
        "ANCHANG_CLOUD_BLIND_INDEX_KEY": settings.blind_index_key.get_secret_value(),
        "ANCHANG_CLOUD_AUDIT_CHAIN_KEYS": settings.audit_chain_keys.get_secret_value(),
    })
