"""The visitor's consent to the personal-information notice, as recorded with a visit.

Both ends import this: the edge refuses a registration whose notice version is not listed
here, and the cloud stores what the edge recorded. A new notice text gets a new version
appended here (never edited or removed: visits recorded under it keep naming it) and the
same string in the kiosk's `NOTICE_VERSION` (edge_agent/web/kiosk/src/stores/consent.ts;
a test keeps the two in step).
"""

from __future__ import annotations

from typing import Literal

# Every notice text the kiosk has shown, oldest first; the last one is the current one.
NOTICE_VERSIONS: tuple[str, ...] = ("2026-11-v1",)
CURRENT_NOTICE_VERSION = NOTICE_VERSIONS[-1]
NOTICE_VERSION_MAX = 32
TABLET_MAX = 64

# kiosk_screen: the visitor tapped 同意并继续 on the kiosk's notice screen.
# staff_confirmed: a member of staff confirms the visitor agreed to the notice shown on
# paper or read aloud; reserved for a staff registration path (none registers visits yet).
ConsentMethod = Literal["kiosk_screen", "staff_confirmed"]
KIOSK_SCREEN: ConsentMethod = "kiosk_screen"


def known_notice(version: str) -> bool:
    return version in NOTICE_VERSIONS
