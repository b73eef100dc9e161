"""Fixtures of the cloud tests (the helpers live in tests/cloud/__init__.py and
tests/cloud/sales_world.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from cloud.settings import CloudSettings
from tests.cloud.sales_world import build_world


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> dict[str, Any]:
    return build_world(db, settings)
