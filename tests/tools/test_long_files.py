"""The long files `make test` hands out first (tests/conftest.py LONG_FILES) are files of
the suite: a renamed one would silently go back to the end of the queue."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LONG_FILES

ROOT = Path(__file__).resolve().parents[2]


def test_every_long_file_exists() -> None:
    assert [f for f in LONG_FILES if not (ROOT / f).is_file()] == []
