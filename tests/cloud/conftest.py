"""Fixtures of the cloud tests (the helpers live in tests/cloud/__init__.py and
tests/cloud/sales_world.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cloud.settings import CloudSettings
from tests.cloud.sales_world import build_world
from tests.conftest import cloud_env


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> dict[str, Any]:
    return build_world(db, settings)


@pytest.fixture
def run(settings: CloudSettings, db: Session) -> CliRunner:
    """Runs `anchang …` commands against the test database."""
    return CliRunner(env={
        **cloud_env(settings),
    })
