"""The sync protocol's messages, defined once for both ends (docs/sync-protocol.md).

Every message is JSON; every message carries `sig`, an HMAC-SHA256 (hex) with the site
key over the canonical JSON of all its other fields: keys sorted, no spaces, UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_serializer,
)

from shared.timeutil import as_utc, iso

PROTOCOL_VERSION = 2
SITE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,31}$"
_SITE_ID = re.compile(SITE_ID_PATTERN)
MAX_MESSAGE_BYTES = 256 * 1024
# Every integer on the wire fits a JSON double exactly and a PostgreSQL BIGINT.
MAX_WIRE_INT = 2**53 - 1
# A time outside this range is a broken clock or a forged message, never a fact.
EARLIEST_TIME = datetime(2024, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)
# An `up` message may carry several events (§4.7) once the cloud has said how many it
# takes, in this MQTT 5 user property of its Acks (ADR 0036).
UP_BATCH_PROPERTY = "anchang-up-batch"
MAX_UP_BATCH_EVENTS = 500


def within_time_bounds(value: datetime) -> datetime:
    value = as_utc(value)
    if not EARLIEST_TIME <= value < LATEST_TIME:
        raise ValueError(
            f"time {value.isoformat()} outside {EARLIEST_TIME.year}–{LATEST_TIME.year}")
    return value


# Strict: a string, float or boolean where an integer is due is malformed, never coerced.
Seq = Annotated[int, Strict(), Field(ge=1, le=MAX_WIRE_INT)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_WIRE_INT)]
Flag = Annotated[bool, Strict()]
def _rfc3339_text(value: object) -> object:
    # Lax datetime parsing would read 1764000000 or "1764000000" as Unix seconds.
    if isinstance(value, str) and _TIME_TEXT.match(value):
        return value
    if isinstance(value, datetime):  # built in code, not read off the wire
        return value
    raise ValueError("a time is an RFC 3339 string, e.g. 2026-11-25T06:30:00Z")


_TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
WireTime = Annotated[datetime, BeforeValidator(_rfc3339_text), AfterValidator(within_time_bounds)]
WireFloat = Annotated[float, Strict()]


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise ValueError("duplicate key in a JSON object")
    return data


def strict_json(raw: bytes) -> Any:
    """RFC 8259 JSON only: no NaN or Infinity, no key twice in one object."""
    return json.loads(raw, parse_constant=_no_constants, object_pairs_hook=_unique_keys)


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


_SIG_SLOT = "0" * 64
_SIG_MEMBER = b'"sig":"' + _SIG_SLOT.encode() + b'"'


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

    def signed_wire(self, key: bytes) -> bytes:
        """`signed(key).to_wire()` with one model dump and one JSON text (the send path of
        every event): written once with a placeholder `sig`, the signed body is that text
        without the placeholder member and the wire form has the signature in its place.
        Keys are sorted, so when every member after `sig` is a scalar (an Envelope's
        site_id, type, v) the placeholder is the last `"sig":"0…0"` of the text; else the
        text is written twice."""
        data = self.model_dump(mode="json")
        if any(isinstance(v, dict | list) for k, v in data.items() if k > "sig"):
            data["sig"] = signature(data, key)
            return canonical_json(data)
        data["sig"] = _SIG_SLOT
        text = canonical_json(data)
        at = text.rindex(_SIG_MEMBER)
        end = at + len(_SIG_MEMBER)
        # The member and one comma beside it (after it, unless it is the last member).
        body = text[:at] + text[end + 1:] if text[end:end + 1] == b"," \
            else text[:at - 1] + text[end:]
        sig = hmac.new(key, body, hashlib.sha256).hexdigest()
        return text[:at] + b'"sig":"' + sig.encode() + b'"' + text[end:]

    def verify(self, key: bytes) -> None:
        expected = signature(self.model_dump(mode="json"), key)
        if not hmac.compare_digest(expected, self.sig):
            raise ProtocolError("bad_signature", "HMAC does not match the site key")

    def to_wire(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_wire(cls, raw: bytes) -> Self:
        return cls.from_data(read_json(raw))

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """The message from parsed JSON (one element of a batch, or a whole message)."""
        _check_version(data)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ProtocolError("malformed", str(exc.errors()[:3])) from exc


def read_json(raw: bytes) -> Any:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"{len(raw)} bytes")
    try:
        return strict_json(raw)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError("malformed", f"not JSON: {exc}"[:200]) from exc


def _check_version(data: Any) -> None:
    if isinstance(data, dict) and data.get("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise ProtocolError("unsupported_schema", f"v={data.get('v')!r}")


class Envelope(Signed):
    """One fact recorded on the edge (up-stream). `seq` is per site and epoch, gapless,
    from 1. `epoch` names the appliance's store (a new one when a store is created
    afresh); `instance` the running agent process (a new one at every start)."""

    v: Count = PROTOCOL_VERSION
    epoch: UUID
    instance: UUID
    seq: Seq
    event_id: UUID
    type: str = Field(min_length=1, max_length=64)
    occurred_at: WireTime
    sent_at: WireTime
    payload: dict[str, Any]

    @field_serializer("event_id", "epoch", "instance")
    def _uuid(self, value: UUID) -> str:
        return str(value)

    def content(self) -> dict[str, Any]:
        """What makes the event this event: a resend differs only in `sent_at` and `sig`."""
        return _content(self.model_dump(mode="json"))

    def digest(self) -> EnvelopeDigest:
        """The signed body and the content hash from one model dump (a receiver needs both
        for every event: the signature check and the duplicate/conflict test)."""
        data = self.model_dump(mode="json")
        body = canonical_json({k: v for k, v in data.items() if k != "sig"})
        return EnvelopeDigest(body, hashlib.sha256(canonical_json(_content(data))).hexdigest())


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("sent_at", "sig", "instance")}


@dataclass(frozen=True)
class EnvelopeDigest:
    """`body`: what `sig` signs; `content_sha256`: the hash of `Envelope.content()`."""

    body: bytes
    content_sha256: str

    def verify(self, sig: str, key: bytes) -> None:
        expected = hmac.new(key, self.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            raise ProtocolError("bad_signature", "HMAC does not match the site key")


class UpBatch(BaseModel):
    """Several envelopes in one `up` message (§4.7), sent only to a cloud that said it
    takes them. The container is not signed: each event carries its own signature and is
    read, verified and answered on its own, so a bad event refuses itself alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Count = PROTOCOL_VERSION
    site_id: str = Field(pattern=SITE_ID_PATTERN)
    events: list[Any] = Field(min_length=1, max_length=MAX_UP_BATCH_EVENTS)


def up_batch_wire(site_id: str, wires: list[bytes]) -> bytes:
    """The canonical JSON of an UpBatch of envelopes already in wire form (its size is
    the envelopes' plus their commas plus `len(up_batch_wire(site_id, []))`)."""
    tail = f'],"site_id":"{site_id}","v":{PROTOCOL_VERSION}}}'.encode()
    return b'{"events":[' + b",".join(wires) + tail


@dataclass(frozen=True)
class UpEvent:
    """One event of an `up` message as read: its envelope, or the refusal of it alone
    (with what could be read of it, for the record)."""

    envelope: Envelope | None
    error: ProtocolError | None = None
    data: Any = None
    digest: EnvelopeDigest | None = None  # of `envelope`, made as it was read


def _up_event(data: Any) -> UpEvent:
    envelope = Envelope.from_data(data)
    return UpEvent(envelope, digest=envelope.digest())


def read_up(raw: bytes) -> tuple[str | None, list[UpEvent]]:
    """An `up` message: one envelope (§4.1) or a batch of them (§4.7) → the batch's
    claimed site (None for a single envelope) and its events. A message that cannot be
    read as either raises ProtocolError: it is refused whole and consumes nothing."""
    data = read_json(raw)
    if not (isinstance(data, dict) and "events" in data):
        return None, [_up_event(data)]
    batch = _read_batch(data)
    events = []
    for item in batch.events:
        try:
            events.append(_up_event(item))
        except ProtocolError as exc:
            events.append(UpEvent(None, exc, item))
    return batch.site_id, events


def _read_batch(data: dict[str, Any]) -> UpBatch:
    _check_version(data)
    try:
        return UpBatch.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("malformed", str(exc.errors()[:3])) from exc


class Rejection(BaseModel):
    """One refusal named in an Ack. `consumed`: the seq is used up (an event that can never
    apply) — or not (a message that could not be trusted or read; the edge keeps its row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: Seq | None = None
    event_id: str | None = Field(None, max_length=36)
    reason: str = Field(min_length=1, max_length=64)
    consumed: Flag


class Ack(Signed):
    """Cloud → edge, after the database commit: everything up to `acked_seq` of `epoch` is
    applied. `resend_from` asks the edge to send again from that seq (a hole was seen).
    `echo` and `instance` answer one Status: the edge_time it carried and the agent that
    sent it, so that agent can time the round trip and measure its clock against
    `cloud_time` — an Ack that answers no status of that agent is no clock sample."""

    v: Count = PROTOCOL_VERSION
    epoch: UUID | None
    acked_seq: Count
    resend_from: Seq | None = None
    cloud_time: WireTime
    echo: WireTime | None = None
    instance: UUID | None = None
    rejected: list[Rejection] = Field(default_factory=list, max_length=10_000)

    @field_serializer("epoch", "instance")
    def _uuid(self, value: UUID | None) -> str | None:
        return None if value is None else str(value)


LinkState = Literal["ok", "stalled", "epoch_refused", "instance_refused"]


class Status(Signed):
    """Edge → cloud, retained; the offline form is also the MQTT last will. `link` is the
    agent's own view of its up-stream: `stalled` (no ack progress despite a reconnect),
    or refused by the cloud for its epoch or instance. The clock skew is the agent's own
    round-trip measurement, sampled at `skew_sampled_at`."""

    v: Count = PROTOCOL_VERSION
    epoch: UUID
    instance: UUID
    state: Literal["online", "offline"]
    edge_time: WireTime
    backlog: Count = 0
    next_seq: Seq = 1
    last_acked_seq: Count = 0
    oldest_unacked_at: WireTime | None = None
    clock_skew_seconds: WireFloat | None = Field(None, ge=-1e9, le=1e9)
    skew_sampled_at: WireTime | None = None
    link: LinkState = "ok"
    storage_full: Flag = False
    agent_version: str = Field("", max_length=40)

    @field_serializer("epoch", "instance")
    def _uuid(self, value: UUID) -> str:
        return str(value)


class DownRequest(Signed):
    """Edge → cloud: send me the change feed after `cursor` (which I have applied) of
    `generation` (None before the first batch)."""

    v: Count = PROTOCOL_VERSION
    cursor: Count
    generation: str | None = Field(None, max_length=64)
    limit: Annotated[int, Strict(), Field(ge=1, le=2000)] = 500
    sent_at: WireTime


class DownItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offset: Seq
    # channel_rules, qr_key, referral: the channel domain's (扫码带看, ADR 0024);
    # site.faces, face.erase: the faces domain's (shared/faces.py, ADR 0047);
    # reception.settings: the reception domain's (shared/reception.py, ADR 0051).
    kind: Literal["consultant", "customer", "project", "revocation", "channel_rules",
                  "qr_key", "referral", "site.faces", "face.erase", "reception.settings"]
    key: str = Field(max_length=128)
    data: dict[str, Any]


class DownBatch(Signed):
    """Cloud → edge: change-feed items after `cursor`. `resync` means: drop your cache and
    apply these items as a full snapshot (your cursor is not one this feed can continue
    from: older than what it keeps, beyond its head, or of another `generation` — a
    restored cloud database starts a new one)."""

    v: Count = PROTOCOL_VERSION
    generation: str = Field(min_length=1, max_length=64)
    cursor: Count
    next_cursor: Count
    resync: Flag = False
    more: Flag = False
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
