"""The protocol's wire form written from docs/sync-protocol.md alone (§2, §3, §4): a
canonical JSON encoder, the HMAC, message builders over plain dicts, and checks of what
the cloud answers. Deliberately independent of shared/envelope.py: if the spec and the
reference implementation drift apart, this suite is what notices.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

VERSION = 2
MAX_MESSAGE_BYTES = 262_144
MAX_WIRE_INT = 2**53 - 1
ROOT = "anchang/v1/sites"
# §4.7: the MQTT 5 user property of an Ack that offers batched `up` messages.
UP_BATCH_PROPERTY = "anchang-up-batch"
MAX_UP_BATCH_EVENTS = 500

# §3: the normalised time form, and §2: the normalised UUID form.
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
UUID_FORM = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")

# §4: every field of every message the cloud sends, exactly.
ACK_FIELDS = {"v", "site_id", "epoch", "acked_seq", "resend_from", "cloud_time", "echo",
              "instance", "rejected", "sig"}
REJECTION_FIELDS = {"seq", "event_id", "reason", "consumed"}
DOWN_BATCH_FIELDS = {"v", "site_id", "generation", "cursor", "next_cursor", "resync", "more",
                     "items", "sig"}
DOWN_ITEM_FIELDS = {"offset", "kind", "key", "data"}


# ---- §3 canonical JSON --------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)  # non-ASCII, "/", U+007F and U+2028 as themselves
    out.append('"')
    return "".join(out)


def _float(value: float) -> str:
    """Shortest digits that read back as the same double; written positionally for
    1e-4 ≤ |x| < 1e16 (always with a fraction: 2.0), else as d[.ddd]e±XX (1e-05)."""
    if not math.isfinite(value):
        raise ValueError("NaN and infinities are not JSON")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    x = abs(value)
    if x == 0:
        return f"{sign}0.0"
    for ndigits in range(1, 18):  # the first length that round-trips is the shortest
        candidate = f"{x:.{ndigits - 1}e}"
        if float(candidate) == x:
            break
    mantissa, _, exp = candidate.partition("e")
    digits, exponent = mantissa.replace(".", ""), int(exp)
    if -4 <= exponent < 16:
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            fraction = digits[exponent + 1:] or "0"
        else:
            whole, fraction = "0", "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{fraction}"
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        # Python orders str by code point, which is what §3 asks for.
        return "{" + ",".join(f"{_string(k)}:{_encode(value[k])}" for k in sorted(value)) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def canonical(value: Any) -> bytes:
    return _encode(value).encode("utf-8")


# ---- §3 signature -------------------------------------------------------------------

def decode_key(text: str) -> bytes:
    """ANCHANG_EDGE_SITE_KEY: base64url without padding → 32 raw bytes."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature(message: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in message.items() if k != "sig"}
    return hmac.new(key, canonical(body), hashlib.sha256).hexdigest()


def sign(message: dict[str, Any], key: bytes) -> dict[str, Any]:
    return {**message, "sig": signature(message, key)}


def wire(message: dict[str, Any], key: bytes) -> bytes:
    """The signed message in its wire form (canonical JSON with `sig`)."""
    return canonical(sign(message, key))


# ---- §2 values ----------------------------------------------------------------------

def ts(at: datetime) -> str:
    """A time in the normalised form: UTC, six fraction digits only when not zero, Z."""
    at = at.astimezone(UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{at.microsecond:06d}" if at.microsecond else "") + "Z"


def now() -> datetime:
    return datetime.now(UTC)


def ago(seconds: float) -> str:
    return ts(now() - timedelta(seconds=seconds))


def uid() -> str:
    return str(uuid.uuid4())


_phones = itertools.count(random.randrange(10**7, 9 * 10**7))


def phone() -> str:
    """A mobile number no other test of this run uses (§4.2: ^1[3-9]\\d{9}$)."""
    return f"139{next(_phones):08d}"


def topic(site_id: str, suffix: str) -> str:
    return f"{ROOT}/{site_id}/{suffix}"


def phone_bidx(key: bytes, phone: str) -> str:
    """§10: the customer's index in the down-feed, keyed with the site's own key."""
    return hmac.new(key, f"phone:{phone}".encode(), hashlib.sha256).hexdigest()


# ---- §4 messages, as plain dicts (unsigned) ------------------------------------------

def envelope(site_id: str, seq: int, payload: dict[str, Any], *, epoch: str, instance: str,
             event_id: str | None = None, type_: str = "visit.registered",
             occurred_at: str | None = None, sent_at: str | None = None) -> dict[str, Any]:
    return {"v": VERSION, "site_id": site_id, "epoch": epoch, "instance": instance,
            "seq": seq, "event_id": event_id or uid(), "type": type_,
            "occurred_at": occurred_at or ago(1), "sent_at": sent_at or ts(now()),
            "payload": payload}


def up_batch(site_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """§4.7: signed envelopes in one unsigned container."""
    return {"v": VERSION, "site_id": site_id, "events": events}


def status(site_id: str, *, epoch: str, instance: str, state: str = "online",
           edge_time: str | None = None, **fields: Any) -> dict[str, Any]:
    message = {"v": VERSION, "site_id": site_id, "epoch": epoch, "instance": instance,
               "state": state, "edge_time": edge_time or ts(now()), "backlog": 0,
               "next_seq": 1, "last_acked_seq": 0, "oldest_unacked_at": None,
               "clock_skew_seconds": None, "skew_sampled_at": None, "link": "ok",
               "storage_full": False, "agent_version": "conformance"}
    message.update(fields)
    return message


def down_request(site_id: str, cursor: int, *, generation: str | None = None,
                 limit: int = 500) -> dict[str, Any]:
    return {"v": VERSION, "site_id": site_id, "cursor": cursor, "generation": generation,
            "limit": limit, "sent_at": ts(now())}


def visit(project_id: int, phone: str, **fields: Any) -> dict[str, Any]:
    payload = {"visit_id": uid(), "project_id": project_id, "phone": phone, "name": "陈先生",
               "party_size": 2, "intent": "三房", "source": "natural", "consultant_id": None,
               "provisional_first_visit": True}
    payload.update(fields)
    return payload


def follow_up(project_id: int, phone: str, consultant_id: int, **fields: Any
              ) -> dict[str, Any]:
    payload = {"follow_up_id": uid(), "project_id": project_id, "phone": phone,
               "visit_id": None, "consultant_id": consultant_id, "kind": "call",
               "reached": True, "note": "约周六看房", "next_at": None, "occurred_at": ago(5)}
    payload.update(fields)
    return payload


# ---- checking what the cloud sends (§2, §3, §4) -------------------------------------

def _is_int(value: Any, low: int = 0) -> bool:
    return type(value) is int and low <= value <= MAX_WIRE_INT


def _check_common(raw: bytes, key: bytes, site_id: str, fields: set[str]) -> dict[str, Any]:
    assert len(raw) <= MAX_MESSAGE_BYTES, f"{len(raw)} bytes"
    message = json.loads(raw)
    assert raw == canonical(message), "not the canonical JSON form (§3)"
    assert set(message) == fields, f"fields {sorted(set(message) ^ fields)} (§4)"
    assert message["v"] == VERSION and message["site_id"] == site_id
    assert HEX64.match(message["sig"]), "sig is 64 lower-case hex (§3)"
    assert hmac.compare_digest(signature(message, key), message["sig"]), "signature (§3)"
    return message


def check_ack(raw: bytes, key: bytes, site_id: str) -> dict[str, Any]:
    """An Ack exactly as §4 defines it, signed with the site key."""
    ack = _check_common(raw, key, site_id, ACK_FIELDS)
    assert ack["epoch"] is None or UUID_FORM.match(ack["epoch"])
    assert _is_int(ack["acked_seq"])
    assert ack["resend_from"] is None or (_is_int(ack["resend_from"], 1)
                                          and ack["resend_from"] == ack["acked_seq"] + 1)
    assert TIME.match(ack["cloud_time"])
    assert ack["echo"] is None or TIME.match(ack["echo"])
    assert ack["instance"] is None or UUID_FORM.match(ack["instance"])
    assert (ack["echo"] is None) == (ack["instance"] is None)
    for item in ack["rejected"]:
        assert set(item) == REJECTION_FIELDS
        assert item["seq"] is None or _is_int(item["seq"], 1)
        assert item["event_id"] is None or UUID_FORM.match(item["event_id"])
        assert type(item["consumed"]) is bool and isinstance(item["reason"], str)
        assert 1 <= len(item["reason"]) <= 64
    return ack


def check_down_batch(raw: bytes, key: bytes, site_id: str) -> dict[str, Any]:
    batch = _check_common(raw, key, site_id, DOWN_BATCH_FIELDS)
    assert isinstance(batch["generation"], str) and 1 <= len(batch["generation"]) <= 64
    assert _is_int(batch["cursor"]) and _is_int(batch["next_cursor"])
    assert type(batch["resync"]) is bool and type(batch["more"]) is bool
    offsets = [item["offset"] for item in batch["items"]]
    assert offsets == sorted(set(offsets)), "items in increasing offset order (§10)"
    for item in batch["items"]:
        assert set(item) == DOWN_ITEM_FIELDS
        assert _is_int(item["offset"], 1)
        assert item["kind"] in ("consultant", "customer", "project", "revocation",
                                "channel_rules", "qr_key", "referral", "site.faces",
                                "face.erase", "reception.settings")
        assert isinstance(item["key"], str) and len(item["key"]) <= 128
        assert isinstance(item["data"], dict)
    if batch["items"]:
        assert batch["next_cursor"] == offsets[-1]
        if not batch["resync"]:
            assert offsets[0] > batch["cursor"]
    return batch
