"""Where the repository's firmware_configs/ is, for the camera tests."""

from __future__ import annotations

from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parents[3] / "firmware_configs"
