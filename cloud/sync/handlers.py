"""The registry through which each domain applies its own up-stream event types.

`cloud/sync` owns envelopes, order, holes and acks; what an event *means* belongs to the
domain that registers its type here (`register(EventType(...))` in the domain's
`sync_events.py`, listed in `cloud.events`). A handler receives every event of its type
in one contiguous run, in seq order, and answers one Outcome per event — set-based, with
a fixed number of queries per run whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlmodel import Session

from cloud.registry import Registry
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.clock import correct_time
from cloud.sync.models import SiteLink
from shared.envelope import Envelope

# The module that imports every domain's sync_events (so their types are registered).
DOMAINS_MODULE = "cloud.events"


@dataclass(frozen=True)
class ApplyContext:
    """What a handler may use while applying one run of one site."""

    session: Session
    settings: CloudSettings
    link: SiteLink
    site_key: bytes
    received_at: datetime

    @property
    def site_id(self) -> str:
        return self.link.site_id

    def event_time(self, envelope: Envelope) -> tuple[datetime, bool]:
        """The event's time on the cloud clock, and whether it had to be corrected."""
        return correct_time(self.link, envelope, self.received_at)

    def feed(self, kind: str, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Append down-feed items (key, data) in the run's transaction."""
        feed.append_many(self.session, self.site_id, kind, items)


@dataclass(frozen=True)
class Outcome:
    """`applied`, `merged` (already there: no second effect) or `rejected` with a reason
    (the event consumes its seq all the same). `ref` names what was applied in the run's
    audit row; `detail` goes to the event's `sync_event` row."""

    outcome: Literal["applied", "merged", "rejected"]
    reason: str | None = None
    ref: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[ApplyContext, Sequence[tuple[Envelope, Any]]], list[Outcome]]


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[BaseModel]
    apply: Handler
    # Types of one run apply in this order: a follow-up finds the visit of the same run.
    order: int
    # The list in the run's audit row (`sync.events_applied`) that names what applied.
    audit_key: str
    # "project": the payload's `project_id` must be one of the site's projects (checked
    # before applying); "site": the event is about the site itself (its cameras).
    scope: Literal["project", "site"] = "project"


_REGISTRY: Registry[EventType] = Registry("event type", DOMAINS_MODULE)
register = _REGISTRY.register


def event_types() -> dict[str, EventType]:
    """Every registered type (importing the domains on first use)."""
    return _REGISTRY.all()
