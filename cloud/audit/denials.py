"""Refused attempts on sensitive routes, audited without turning 403s into a write load.

Only a route that requires a sensitive permission (SENSITIVE_PERMISSIONS: unmasking
personal data, administering users, roles and scopes, reading or exporting the audit log,
data-subject requests, site keys) records its refusals; the other routes' 403s stay free
of database writes. A signed-in user hammering one such route writes one row per minute
per route and process: later refusals in that minute are only counted, and the count
goes into that user's next recorded refusal of the route (`suppressed`), so a flood
cannot become a DoS of the audit chain (whose appends are serialised).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal

SENSITIVE_PERMISSIONS = frozenset({
    Perm.USER_MANAGE, Perm.ROLE_ASSIGN, Perm.ADMIN_ACCOUNT_MANAGE,
    Perm.AUDIT_READ, Perm.AUDIT_EXPORT,
    Perm.CUSTOMER_UNMASK, Perm.CUSTOMER_CONTACT, Perm.VISIT_EXPORT,
    Perm.PRIVACY_REQUEST, Perm.SITE_MANAGE,
})
WINDOW_SECONDS = 60.0
# Forget finished windows once this many keys are held (keys are signed-in users × routes).
_PRUNE_ABOVE = 4096


@dataclass
class _Window:
    started: float
    suppressed: int = 0


class DenialLimiter:
    """Per process: which (user, route) pairs already have a row in the current minute.

    Used on the event loop only, so it needs no lock.
    """

    def __init__(self, window_seconds: float = WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._windows: dict[tuple[int, str], _Window] = {}

    def admit(self, key: tuple[int, str], now: float) -> int | None:
        """None: already recorded this minute (counted); else how many refusals of this
        key were left unrecorded before now."""
        window = self._windows.get(key)
        if window is not None and now - window.started < self.window_seconds:
            window.suppressed += 1
            return None
        if len(self._windows) > _PRUNE_ABOVE:
            self._windows = {k: w for k, w in self._windows.items()
                             if now - w.started < self.window_seconds}
        self._windows[key] = _Window(started=now)
        return window.suppressed if window is not None else 0


def record_denial(session: Session, *, principal: Principal, route: str,
                  missing: list[str], suppressed: int) -> None:
    """Commit the row now: the request's transaction is rolled back with the 403."""
    audit_service.record(
        session, action="auth.denied", result="denied", principal=principal,
        object_type="route", object_id=route,
        detail={"missing_permissions": missing, "suppressed": suppressed},
    )
    session.commit()


def record_outside(session: Session, *, user_id: int, username: str, ip: str | None,
                   route: str, suppressed: int) -> None:
    """An administrator's token refused outside the console's networks; committed now
    for the same reason as a denial."""
    audit_service.record(
        session, action="auth.network_refused", result="denied", actor=username,
        actor_id=user_id, ip=ip, object_type="route", object_id=route,
        detail={"suppressed": suppressed},
    )
    session.commit()
