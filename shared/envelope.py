"""The sync protocol's messages, defined once for both ends (docs/sync-protocol.md).

Every message is JSON; every message carries `sig`, an HMAC-SHA256 (hex) with the site
key over the canonical JSON of all its other fields: keys sorted, no spaces, UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer

from shared.timeutil import iso

PROTOCOL_VERSION = 1
SITE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,31}$"
_SITE_ID = re.compile(SITE_ID_PATTERN)
MAX_MESSAGE_BYTES = 256 * 1024


class ProtocolError(Exception):
    """A message that cannot be accepted; `reason` is a stable code recorded by the receiver."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}" if message else reason)


def valid_site_id(site_id: str) -> bool:
    return bool(_SITE_ID.fullmatch(site_id))


def canonical_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(data: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in data.items() if k != "sig"}
    return hmac.new(key, canonical_json(body), hashlib.sha256).hexdigest()


class Signed(BaseModel):
    """Base of every protocol message: strict fields, HMAC signature, JSON wire form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: str = Field(pattern=SITE_ID_PATTERN)
    sig: str = ""

    @field_serializer("*", when_used="json", check_fields=False)
    def _times(self, value: Any) -> Any:
        return iso(value) if isinstance(value, datetime) else value

    def signed(self, key: bytes) -> Self:
        return self.model_copy(update={"sig": signature(self.model_dump(mode="json"), key)})

    def verify(self, key: bytes) -> None:
        expected = signature(self.model_dump(mode="json"), key)
        if not hmac.compare_digest(expected, self.sig):
            raise ProtocolError("bad_signature", "HMAC does not match the site key")

    def to_wire(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_wire(cls, raw: bytes) -> Self:
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ProtocolError("too_large", f"{len(raw)} bytes")
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProtocolError("malformed", "not JSON") from exc
        if isinstance(data, dict) and data.get("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
            raise ProtocolError("unsupported_schema", f"v={data.get('v')!r}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ProtocolError("malformed", str(exc.errors()[:3])) from exc


class Envelope(Signed):
    """One fact recorded on the edge (up-stream). `seq` is per site, gapless, from 1."""

    v: int = PROTOCOL_VERSION
    seq: int = Field(ge=1)
    event_id: UUID
    type: str = Field(max_length=64)
    occurred_at: datetime
    sent_at: datetime
    payload: dict[str, Any]

    @field_serializer("event_id")
    def _uuid(self, value: UUID) -> str:
        return str(value)


class Ack(Signed):
    """Cloud → edge, after the database commit: everything up to `acked_seq` is applied.

    `resend_from` asks the edge to send again from that seq (a gap was seen).
    `cloud_time` lets the edge measure its clock skew.
    """

    v: int = PROTOCOL_VERSION
    acked_seq: int = Field(ge=0)
    resend_from: int | None = Field(default=None, ge=1)
    cloud_time: datetime
    rejected: list[dict[str, Any]] = Field(default_factory=list)


class Status(Signed):
    """Edge → cloud, retained; the offline form is also the MQTT last will."""

    v: int = PROTOCOL_VERSION
    state: Literal["online", "offline"]
    edge_time: datetime
    backlog: int = 0
    last_acked_seq: int = 0
    oldest_unacked_at: datetime | None = None
    clock_skew_seconds: float | None = None
    agent_version: str = ""


class DownRequest(Signed):
    """Edge → cloud: send me the change feed after `cursor` (which I have applied)."""

    v: int = PROTOCOL_VERSION
    cursor: int = Field(ge=0)
    limit: int = Field(default=500, ge=1, le=2000)
    sent_at: datetime


class DownItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offset: int = Field(ge=1)
    kind: Literal["consultant", "customer", "project"]
    key: str = Field(max_length=128)
    data: dict[str, Any]


class DownBatch(Signed):
    """Cloud → edge: change-feed items after `cursor`. `resync` means: drop your cache and
    apply these items as a full snapshot (your cursor was older than what the cloud keeps)."""

    v: int = PROTOCOL_VERSION
    cursor: int = Field(ge=0)
    next_cursor: int = Field(ge=0)
    resync: bool = False
    more: bool = False
    items: list[DownItem]


class Topics:
    """MQTT topics of one site; the broker ACL confines a site to `anchang/v1/sites/{id}/#`."""

    ROOT = "anchang/v1/sites"

    def __init__(self, site_id: str) -> None:
        if not valid_site_id(site_id):
            raise ValueError(f"invalid site id {site_id!r}")
        base = f"{self.ROOT}/{site_id}"
        self.up = f"{base}/up"
        self.ack = f"{base}/ack"
        self.status = f"{base}/status"
        self.down_request = f"{base}/down/req"
        self.down = f"{base}/down"

    @classmethod
    def site_of(cls, topic: str) -> tuple[str, str]:
        """('anchang/v1/sites/s1/down/req') → ('s1', 'down/req'); ProtocolError otherwise."""
        prefix = cls.ROOT + "/"
        if not topic.startswith(prefix):
            raise ProtocolError("bad_topic", topic)
        site_id, _, rest = topic[len(prefix):].partition("/")
        if not valid_site_id(site_id) or not rest:
            raise ProtocolError("bad_topic", topic)
        return site_id, rest
