"""A short-lived, per-process cache of signed-in principals, invalidated explicitly.

Every authenticated request used to read the login session, the user, the roles and the
scopes. The cache keeps that answer for a few seconds per login session. The rules stay
exact because nothing waits for the entry to age out:

* every change that can narrow access — roles, scopes, disable, password change or reset,
  logout, a session ended — calls `user_changed` / `session_ended` in its transaction;
* after that transaction commits, this process drops the entries at once (`after_commit`),
  and on PostgreSQL a NOTIFY sent in the same transaction reaches every other API process
  (`principal_listener`), which drops them too;
* an entry read from the database while a change was committing is not stored (the
  generation check in `put`);
* on PostgreSQL the cache serves only while the process is listening: if the LISTEN
  connection drops, the cache is emptied and bypassed until it is back.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cloud.identity.principal import Principal
from cloud.identity.security import AccessClaims

CHANNEL = "anchang_principal"
_PENDING = "principal_changes"
# Bounded so a flood of logins cannot grow the process: the oldest entries go first.
MAX_ENTRIES = 50_000


@dataclass(frozen=True)
class CachedLogin:
    """What authenticating an access token needs, as read from the database."""

    principal: Principal  # without ip: that is the request's
    active: bool
    expires_at: datetime
    last_used_at: datetime
    must_change_password: bool
    password_changed_at: datetime
    stored_at: float = 0.0


class PrincipalCache:
    def __init__(self, ttl_seconds: float, *, needs_listener: bool) -> None:
        self.ttl = ttl_seconds
        self._needs_listener = needs_listener
        self._listening = False
        self._entries: dict[str, CachedLogin] = {}
        # Verified access tokens: checking an HS256 signature and the claims costs more
        # than the rest of a cached request. Keyed by the token's exact text, so only the
        # bytes already verified match; expiry is checked again on every use.
        self.tokens: dict[str, AccessClaims] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def serving(self) -> bool:
        return self.ttl > 0 and (self._listening or not self._needs_listener)

    def set_listening(self, listening: bool) -> None:
        with self._lock:
            self._listening = listening
            self._entries.clear()
            self._generation += 1

    def get(self, session_id: str) -> CachedLogin | None:
        if not self.serving:
            return None
        entry = self._entries.get(session_id)
        if entry is None or time.monotonic() - entry.stored_at > self.ttl:
            return None
        return entry

    def generation(self) -> int:
        """Take before reading the database; hand to `put`."""
        return self._generation

    def put(self, session_id: str, entry: CachedLogin, generation: int) -> None:
        with self._lock:
            if not self.serving or generation != self._generation:
                return  # a change committed while this entry was being read
            if len(self._entries) >= MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]
            self._entries[session_id] = replace(entry, stored_at=time.monotonic())

    def apply(self, change: str) -> None:
        """`u:<user id>` or `s:<session id>`, as recorded by user_changed / session_ended."""
        kind, _, key = change.partition(":")
        with self._lock:
            self._generation += 1
            if kind == "s":
                self._entries.pop(key, None)
            else:
                uid = int(key)
                for sid in [s for s, e in self._entries.items() if e.principal.user_id == uid]:
                    del self._entries[sid]


_caches: weakref.WeakKeyDictionary[Engine, list[PrincipalCache]] = weakref.WeakKeyDictionary()


def register(engine: Engine, cache: PrincipalCache) -> None:
    _caches.setdefault(engine, []).append(cache)


def unregister(engine: Engine, cache: PrincipalCache) -> None:
    if cache in _caches.get(engine, []):
        _caches[engine].remove(cache)


def user_changed(session: Session, user_id: int) -> None:
    """The user's roles, scopes, status or password changed, or all their sessions ended."""
    _record(session, f"u:{user_id}")


def session_ended(session: Session, session_id: str) -> None:
    _record(session, f"s:{session_id}")


def _record(session: Session, change: str) -> None:
    session.info.setdefault(_PENDING, []).append(change)
    if session.get_bind().dialect.name == "postgresql":
        # Delivered to the other processes when (and only if) this transaction commits.
        session.execute(text("SELECT pg_notify(:channel, :change)"),
                        {"channel": CHANNEL, "change": change})


def apply_to_engine(engine: Engine, change: str) -> None:
    for cache in list(_caches.get(engine, [])):
        cache.apply(change)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    changes: list[str] = session.info.pop(_PENDING, [])
    if not changes:
        return
    bind: Any = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    for change in changes:
        apply_to_engine(engine, change)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
