"""Face-capture events pushed by cameras, one parser per vendor format.

A brand's YAML names its parser (`face_events.parser`); parsers register here under that
name, so several brands selling one maker's firmware share a parser and a new format is
one function plus its test. A parser takes one part of the camera's event stream (the
body of one multipart part) and answers the face captures in it — none for heartbeats
and other event types. Times are UTC; the agent keeps its own receive time beside the
camera's, whose clock may be off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from xml.etree import ElementTree

FaceState = Literal["start", "stop", "pulse"]


@dataclass(frozen=True)
class FaceBox:
    """A face's box in the frame, as fractions of its width and height (0…1, from the
    top-left corner): vendors count in different grids (Hikvision 0…1000 from the
    bottom-left, Dahua 0…8192)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class FaceCapture:
    event_type: str
    state: FaceState
    channel: int
    camera_time: datetime | None
    faces: tuple[FaceBox, ...] = ()
    object_ids: tuple[int, ...] = ()
    mac: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FaceEventMalformed(ValueError):
    """A part of an event stream that claims a known format and does not parse."""


Parser = Callable[[bytes, frozenset[str]], list[FaceCapture]]
PARSERS: dict[str, Parser] = {}


def register(name: str) -> Callable[[Parser], Parser]:
    def add(parser: Parser) -> Parser:
        if name in PARSERS:
            raise ValueError(f"face-event parser {name!r} is registered twice")
        PARSERS[name] = parser
        return parser
    return add


def parse(name: str, part: bytes, event_types: list[str] | frozenset[str]) -> list[FaceCapture]:
    return PARSERS[name](part, frozenset(event_types))


def split_multipart(content_type: str, body: bytes) -> Iterator[bytes]:
    """The bodies of the parts of a multipart event stream (`multipart/mixed` from
    Hikvision, `multipart/x-mixed-replace` from Dahua), headers dropped. A delimiter is
    only a whole line `--<boundary>` (some firmwares declare the boundary with its two
    dashes already): the word may well occur inside a part."""
    match = re.search(r'boundary="?([^";\s]+)"?', content_type)
    if match is None:
        raise FaceEventMalformed("multipart content type without a boundary")
    boundary = match.group(1).encode()
    line = re.escape(boundary if boundary.startswith(b"--") else b"--" + boundary)
    for chunk in re.split(rb"(?:\A|\r?\n)" + line + rb"(?:--)?[ \t]*(?=\r?\n|\Z)", body):
        chunk = chunk.strip(b"\r\n")
        if not chunk:
            continue
        head, sep, rest = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, rest = chunk.partition(b"\n\n")
        yield rest.strip(b"\r\n") if sep and b":" in head.split(b"\n", 1)[0] else chunk


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _iso_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _mac(text: str | None) -> str | None:
    if not text:
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", text).lower()
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2)) if len(digits) == 12 else None


# Hikvision ISAPI /ISAPI/Event/notification/alertStream: EventNotificationAlert in XML
# (namespace http://www.hikvision.com/ver20/XMLSchema) or, from the intelligent
# firmwares, the same fields in JSON with a `faceCapture` list. A quiet stream sends
# `videoloss` / `inactive` as its heartbeat.
_HIK_STATES: dict[str, FaceState] = {"active": "start", "inactive": "stop"}


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _hik_xml(part: bytes, event_types: frozenset[str]) -> list[FaceCapture]:
    try:
        # Python's expat refuses entity expansion bombs and resolves no external
        # entities, which is what defusedxml would add.
        root = ElementTree.fromstring(part)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise FaceEventMalformed(f"ISAPI alert is not XML: {exc}") from exc
    if _strip_ns(root.tag) != "EventNotificationAlert":
        raise FaceEventMalformed(f"ISAPI alert root is {_strip_ns(root.tag)!r}")
    fields: dict[str, str] = {}
    for child in root:
        if len(child) == 0 and child.text is not None:
            fields[_strip_ns(child.tag)] = child.text.strip()
    event_type = fields.get("eventType", "")
    if event_type not in event_types:
        return []
    boxes: list[FaceBox] = []
    # faceDetection: the detection region as a polygon on a 0…1000 grid, origin bottom-left.
    for region in root.iter():
        if _strip_ns(region.tag) != "RegionCoordinatesList":
            continue
        points = [(float(_child_text(p, "positionX")), float(_child_text(p, "positionY")))
                  for p in region if _strip_ns(p.tag) == "RegionCoordinates"]
        if points:
            xs, ys = [p[0] / 1000 for p in points], [p[1] / 1000 for p in points]
            boxes.append(FaceBox(_clip(min(xs)), _clip(1 - max(ys)),
                                 _clip(max(xs) - min(xs)), _clip(max(ys) - min(ys))))
    return [FaceCapture(
        event_type=event_type, state=_HIK_STATES.get(fields.get("eventState", ""), "pulse"),
        channel=int(fields.get("channelID") or fields.get("dynChannelID") or 1),
        camera_time=_iso_time(fields.get("dateTime")), faces=tuple(boxes),
        mac=_mac(fields.get("macAddress")))]


def _child_text(element: Any, name: str) -> str:
    for child in element:
        if _strip_ns(child.tag) == name and child.text is not None:
            return str(child.text).strip()
    raise FaceEventMalformed(f"ISAPI region point without {name}")


def _hik_json(part: bytes, event_types: frozenset[str]) -> list[FaceCapture]:
    try:
        data = json.loads(part)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FaceEventMalformed(f"ISAPI JSON alert does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise FaceEventMalformed("ISAPI JSON alert is not an object")
    event_type = str(data.get("eventType", ""))
    if event_type not in event_types:
        return []
    captures = []
    for capture in data.get(event_type) or []:
        attrs = capture.get("targetAttrs") or {}
        boxes, ids = [], []
        for face in capture.get("faces") or []:
            rect = face.get("faceRect") or {}
            try:
                boxes.append(FaceBox(_clip(float(rect["x"])), _clip(float(rect["y"])),
                                     _clip(float(rect["width"])), _clip(float(rect["height"]))))
            except (KeyError, TypeError, ValueError) as exc:
                raise FaceEventMalformed("faceCapture face without a faceRect") from exc
            if isinstance(face.get("faceId"), int):
                ids.append(face["faceId"])
        captures.append(FaceCapture(
            event_type=event_type, state="pulse",
            channel=int(attrs.get("deviceChannel") or data.get("channelID") or 1),
            camera_time=_iso_time(attrs.get("faceTime") or data.get("dateTime")),
            faces=tuple(boxes), object_ids=tuple(ids), mac=_mac(data.get("macAddress"))))
    return captures


@register("hikvision_isapi")
def parse_hikvision(part: bytes, event_types: frozenset[str]) -> list[FaceCapture]:
    text = part.lstrip()
    return _hik_json(text, event_types) if text.startswith(b"{") else _hik_xml(text, event_types)


# Dahua /cgi-bin/eventManager.cgi?action=attach: each part is one line
# `Code=<code>;action=<Start|Stop|Pulse>;index=<channel-1>[;data=<JSON>]`; `Heartbeat`
# lines keep the stream alive. Boxes count on an 8192 × 8192 grid. Quirk: several
# firmwares put the camera's *local* time in the `UTC` field — the agent's receive time
# is what sightings use.
_DAHUA_GRID = 8192.0
_DAHUA_LINE = re.compile(rb"^Code=(?P<code>[^;]+);action=(?P<action>[^;]+);index=(?P<index>\d+)"
                         rb"(?:;data=(?P<data>.*))?$", re.DOTALL)
_DAHUA_STATES: dict[str, FaceState] = {"start": "start", "stop": "stop", "pulse": "pulse"}


def _dahua_box(values: Any) -> FaceBox:
    if not (isinstance(values, list) and len(values) == 4):
        raise FaceEventMalformed("Dahua BoundingBox is not four numbers")
    left, top, right, bottom = (float(v) / _DAHUA_GRID for v in values)
    return FaceBox(_clip(left), _clip(top), _clip(right - left), _clip(bottom - top))


@register("dahua_event_manager")
def parse_dahua(part: bytes, event_types: frozenset[str]) -> list[FaceCapture]:
    line = part.strip()
    if line == b"Heartbeat" or not line:
        return []
    match = _DAHUA_LINE.match(line)
    if match is None:
        raise FaceEventMalformed("Dahua event line is not Code=…;action=…;index=…")
    code = match["code"].decode()
    if code not in event_types:
        return []
    data: dict[str, Any] = {}
    if match["data"]:
        try:
            data = json.loads(match["data"])
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FaceEventMalformed(f"Dahua event data does not parse: {exc}") from exc
    faces = [f for f in data.get("Faces") or [] if isinstance(f, dict)]
    obj = data.get("Object")
    if not faces and isinstance(obj, dict) and "BoundingBox" in obj:
        faces = [obj]  # FaceRecognition names the one face as its Object
    utc = data.get("UTC")
    return [FaceCapture(
        event_type=code, state=_DAHUA_STATES.get(match["action"].decode().lower(), "pulse"),
        channel=int(match["index"]) + 1,
        camera_time=datetime.fromtimestamp(utc, UTC) if isinstance(utc, int | float) else None,
        faces=tuple(_dahua_box(f.get("BoundingBox")) for f in faces),
        object_ids=tuple(f["ObjectID"] for f in faces if isinstance(f.get("ObjectID"), int)),
        extra=_best_candidate(data))]


def _best_candidate(data: dict[str, Any]) -> dict[str, Any]:
    """FaceRecognition's best match in the camera's own face library, if any (the
    agent's own matching decides; this is kept for diagnosis)."""
    scores = [c["Similarity"] for c in data.get("Candidates") or []
              if isinstance(c, dict) and isinstance(c.get("Similarity"), int | float)]
    return {"similarity": max(scores)} if scores else {}
