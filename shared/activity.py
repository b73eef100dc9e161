"""Background requests do not count as activity.

The web apps poll (the console's sync board, the PWA's lists); were every poll counted,
an unattended screen would never reach the idle timeout (等保: 30 minutes without a user
action ends the session). Requests the apps make on their own carry this header; the
session's last activity moves only with the others.
"""

from __future__ import annotations

from starlette.requests import Request

BACKGROUND_HEADER = "X-Anchang-Background"


def is_background(request: Request) -> bool:
    return request.headers.get(BACKGROUND_HEADER) == "1"
