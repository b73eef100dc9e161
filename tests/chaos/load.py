"""The kiosk load: walk-ins registered at the edge's kiosk API at a steady rate, and now
and then a consultant's follow-up from the PWA; the history of what the edge committed.

A request whose answer is lost (the agent killed under it, a connection reset) is sent
again with the same Idempotency-Key until it gets an answer, as the kiosk does: the edge
returns the visit it may already have committed, never a second one. A 2xx answer is
the edge's commit; only those enter the history.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared import edge_token
from shared.timeutil import utcnow
from tests.consent import consent_body
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess

REQUEST_TIMEOUT_SECONDS = 5.0
FOLLOW_UP_EVERY = 4  # one follow-up per this many visits
MAX_ATTEMPTS = 200  # a request still refused after this many tries is given up (recorded)


@dataclass(frozen=True)
class Committed:
    kind: str  # "visit" | "follow_up"
    id: str
    seq: int
    at: float  # seconds after the load started, when the 2xx arrived
    attempts: int
    clock: str | None  # the edge's faketime offset when it answered, None = true clock

    def describe(self) -> str:
        clock = f" clock={self.clock}" if self.clock else ""
        return (f"{self.at:8.2f}s seq={self.seq:<6} {self.kind:<9} {self.id}"
                f" tries={self.attempts}{clock}")


@dataclass
class _Request:
    kind: str
    path: str
    body: dict[str, Any]
    key: str
    headers: dict[str, str]
    attempts: int = 0
    next_try: float = 0.0


@dataclass
class History:
    committed: list[Committed] = field(default_factory=list)
    attempts: int = 0
    failed_attempts: collections.Counter[str] = field(default_factory=collections.Counter)
    given_up: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Committed]:
        return [c for c in self.committed if c.kind == kind]

    def describe(self) -> str:
        lines = [f"attempts {self.attempts}, committed {len(self.committed)}, failed "
                 f"attempts {dict(self.failed_attempts)}, given up {len(self.given_up)}"]
        lines += [c.describe() for c in self.committed]
        lines += [f"given up: {g}" for g in self.given_up]
        lines += [f"5xx: {e}" for e in self.server_errors]
        return "\n".join(lines)



class KioskLoad:
    """A thread sending one request per 1/rate seconds: a retry when one is due, else a
    new visit (or the follow-up of an earlier one)."""

    def __init__(self, edge: EdgeProcess, site: ProvisionedSite, consultant_id: int, *,
                 rate: float, clock: Any = None) -> None:
        self.edge = edge
        self.site = site
        self.consultant_id = consultant_id
        self.interval = 1.0 / rate
        self.clock = clock  # a callable giving the edge's faketime offset now
        self.history = History()
        self._pending: collections.deque[_Request] = collections.deque()
        self._visits = 0  # made
        self._committed_visits = 0
        self._no_new = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-load", daemon=True)
        self._started = 0.0
        token, _ = edge_token.issue(site.key, user_id=consultant_id, name="王磊",
                                    site_id=site.site_id, roles={"consultant"}, now=utcnow())
        self._staff = {"Authorization": f"Bearer {token}"}
        self._http = httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS)

    @property
    def events(self) -> int:
        return len(self.history.committed)

    @property
    def unanswered(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._http.close()

    def settle(self, timeout: float) -> None:
        """Stop making new requests; keep retrying the unanswered ones for `timeout`."""
        deadline = time.monotonic() + timeout
        self._no_new = True
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.1)

    def _run(self) -> None:
        tick = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            request = self._due(now)
            if request is None and not self._no_new:
                request = self._new_visit()
            if request is not None:
                self._send(request)
            tick = max(tick + self.interval, time.monotonic() - 1.0)
            self._stop.wait(max(0.0, tick - time.monotonic()))

    def _due(self, now: float) -> _Request | None:
        if self._pending and self._pending[0].next_try <= now:
            return self._pending.popleft()
        return None

    def _new_visit(self) -> _Request:
        self._visits += 1
        phone = f"13{self._visits:09d}"
        key = f"chaos-{uuid.uuid4()}"
        body = {"project_id": self.site.project_id, "phone": phone, "name": "陈先生",
                "party_size": 1 + self._visits % 3, "intent": "三房",
                "consultant_id": self.consultant_id, "consent": consent_body()}
        return _Request("visit", "/api/v1/kiosk/visits", body, key,
                        {"Authorization": f"Bearer {self.edge.token}"})

    def _follow_up(self, visit_id: str) -> _Request:
        follow_up_id = str(uuid.uuid4())
        body = {"id": follow_up_id, "visit_id": visit_id, "kind": "call", "reached": True,
                "note": "电话回访，客户周末再来", "occurred_at": utcnow().isoformat()}
        return _Request("follow_up", "/api/v1/staff/follow-ups", body, follow_up_id,
                        dict(self._staff))

    def _send(self, request: _Request) -> None:
        request.attempts += 1
        self.history.attempts += 1
        try:
            response = self._http.post(
                self.edge.url + request.path, json=request.body,
                headers={**request.headers, "Idempotency-Key": request.key})
        except httpx.HTTPError as exc:
            self._retry(request, type(exc).__name__)
            return
        if response.status_code >= 500:
            self.history.server_errors.append(
                f"{request.kind} {request.key}: {response.status_code} {response.text[:300]}")
        if not response.is_success:
            # 5xx, or a token the edge cannot accept while its clock is off: try again.
            self._retry(request, str(response.status_code))
            return
        data = response.json()
        self.history.committed.append(Committed(
            request.kind, str(data["id"]), int(data["seq"]),
            round(time.monotonic() - self._started, 3), request.attempts,
            self.clock() if self.clock else None))
        if request.kind == "visit":
            self._committed_visits += 1
            if self._committed_visits % FOLLOW_UP_EVERY == 0:
                self._pending.append(self._follow_up(str(data["id"])))

    def _retry(self, request: _Request, reason: str) -> None:
        self.history.failed_attempts[reason] += 1
        if request.attempts >= MAX_ATTEMPTS:
            self.history.given_up.append(f"{request.kind} {request.key} after {reason}")
            return
        request.next_try = time.monotonic() + min(0.2 * request.attempts, 2.0)
        self._pending.append(request)
