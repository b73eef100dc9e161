"""Reaching the real services the integration tests need.

Under CI=true a service that cannot be reached is a failure; on a developer's machine
the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

PG_ADMIN_URL = os.environ.get(
    "ANCHANG_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ANCHANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable(message: str) -> NoReturn:
    """A service or tool the test needs is missing: a failure under CI, else a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


def require(name: str, host: str, port: int) -> None:
    if not port_open(host, port):
        unavailable(f"{name} is not reachable at {host}:{port}")
