"""LISTEN for principal changes committed by other processes (see principal_cache).

One thread and one dedicated PostgreSQL connection per API process. While it is not
connected the cache is bypassed, so a lost notification can never leave a stale grant.
"""

from __future__ import annotations

import select
import threading

import psycopg2
import psycopg2.extensions
import structlog
from sqlalchemy.engine import Engine, make_url

from cloud.identity.principal_cache import (
    CHANNEL,
    PrincipalCache,
    apply_to_engine,
    register,
    unregister,
)

log = structlog.get_logger()

POLL_SECONDS = 1.0
RECONNECT_SECONDS = 1.0


class PrincipalListener:
    def __init__(self, engine: Engine, cache: PrincipalCache, url: str | None = None) -> None:
        self._engine = engine
        self._url = make_url(url) if url else engine.url
        self._cache = cache
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        # A thread per start: an app's lifespan may run more than once (tests, reloads).
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="principal-listener",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _dsn(self) -> str:
        url = self._url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg2.Error as exc:
                log.warning("principal_listener_lost", error=str(exc))
            finally:
                self.connected.clear()
                self._cache.set_listening(False)
            self._stop.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        conn = psycopg2.connect(self._dsn(), application_name="anchang-principal-listener")
        try:
            conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {CHANNEL}")
            self._cache.set_listening(True)
            self.connected.set()
            while not self._stop.is_set():
                readable, _, _ = select.select([conn], [], [], POLL_SECONDS)
                if not readable:
                    continue
                conn.poll()
                while conn.notifies:
                    apply_to_engine(self._engine, conn.notifies.pop(0).payload)
        finally:
            conn.close()


class PrincipalServing:
    """The app's principal cache and, on PostgreSQL, the listener that keeps it exact."""

    def __init__(self, engine: Engine, ttl_seconds: float, listen_url: str | None = None
                 ) -> None:
        on_postgres = engine.dialect.name == "postgresql"
        self._engine = engine
        self.cache = PrincipalCache(ttl_seconds, needs_listener=on_postgres)
        self._listener = (PrincipalListener(engine, self.cache, listen_url) if on_postgres
                          else None)

    def start(self) -> None:
        register(self._engine, self.cache)
        if self._listener is not None and self.cache.ttl > 0:
            self._listener.start()

    def stop(self) -> None:
        if self._listener is not None and self.cache.ttl > 0:
            self._listener.stop()
        unregister(self._engine, self.cache)
