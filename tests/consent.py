"""The consent a kiosk sends with a registration, for tests that register visits."""

from __future__ import annotations

from typing import Any

from edge_agent.kiosk.schemas import ConsentIn
from shared.consent import CURRENT_NOTICE_VERSION
from shared.timeutil import utcnow


def consent_body() -> dict[str, Any]:
    """The `consent` member of a POST /kiosk/visits body: the current notice, just now."""
    return {"notice_version": CURRENT_NOTICE_VERSION, "accepted_at": utcnow().isoformat()}


def consent_in() -> ConsentIn:
    return ConsentIn.model_validate(consent_body())
