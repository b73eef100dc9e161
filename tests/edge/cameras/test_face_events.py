"""Face-event parsers on payloads written in the vendors' documented formats: Hikvision
ISAPI `EventNotificationAlert` (XML alertStream, JSON faceCapture) and Dahua
`eventManager.cgi?action=attach` lines, each inside the multipart stream it arrives in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge_agent.cameras import face_events
from edge_agent.cameras.face_events import FaceEventMalformed, parse, split_multipart
from edge_agent.cameras.firmware import load
from tests.edge.cameras.fakes import FIRMWARE_DIR

HIK_TYPES = ["faceSnap", "faceCapture", "faceDetection"]
DAHUA_TYPES = ["FaceDetection", "FaceRecognition"]

HIK_FACE_DETECTION = """<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:19:b6:6d:24:85</macAddress>
<channelID>1</channelID>
<dateTime>2026-11-28T16:20:31+08:00</dateTime>
<activePostCount>1</activePostCount>
<eventType>faceDetection</eventType>
<eventState>active</eventState>
<eventDescription>faceDetection alarm</eventDescription>
<DetectionRegionList>
<DetectionRegionEntry>
<regionID>1</regionID>
<sensitivityLevel>50</sensitivityLevel>
<RegionCoordinatesList>
<RegionCoordinates><positionX>400</positionX><positionY>800</positionY></RegionCoordinates>
<RegionCoordinates><positionX>500</positionX><positionY>800</positionY></RegionCoordinates>
<RegionCoordinates><positionX>500</positionX><positionY>600</positionY></RegionCoordinates>
<RegionCoordinates><positionX>400</positionX><positionY>600</positionY></RegionCoordinates>
</RegionCoordinatesList>
</DetectionRegionEntry>
</DetectionRegionList>
<channelName>大堂入口</channelName>
</EventNotificationAlert>
""".encode()

HIK_HEARTBEAT = b"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:19:b6:6d:24:85</macAddress>
<channelID>1</channelID>
<dateTime>2026-11-28T16:20:41+08:00</dateTime>
<activePostCount>0</activePostCount>
<eventType>videoloss</eventType>
<eventState>inactive</eventState>
<eventDescription>videoloss alarm</eventDescription>
</EventNotificationAlert>
"""

HIK_FACE_CAPTURE_JSON = b"""{
  "ipAddress": "192.168.1.64", "portNo": 80, "protocol": "HTTP",
  "macAddress": "44-19-B6-6D-24-85", "channelID": 1,
  "dateTime": "2026-11-28T16:20:31+08:00", "activePostCount": 1,
  "eventType": "faceCapture", "eventState": "active", "eventDescription": "faceCapture",
  "channelName": "Camera 01",
  "faceCapture": [{
    "targetAttrs": {"deviceName": "IP CAMERA", "deviceChannel": 2,
                    "faceTime": "2026-11-28T16:20:30+08:00"},
    "faces": [
      {"faceId": 7, "faceRect": {"height": 0.104, "width": 0.059, "x": 0.462, "y": 0.276},
       "age": {"value": 32, "ageGroup": "middle"}, "gender": {"value": "male"}},
      {"faceId": 8, "faceRect": {"height": 0.09, "width": 0.05, "x": 0.1, "y": 0.2}}
    ]
  }]
}"""

DAHUA_FACE_DETECTION = (
    b'Code=FaceDetection;action=Start;index=0;data={\n'
    b'   "Faces" : [\n'
    b'      { "BoundingBox" : [ 2048, 1024, 4096, 3072 ], "Center" : [ 3072, 2048 ],\n'
    b'        "ObjectID" : 12, "ObjectType" : "HumanFace", "RelativeID" : 0 }\n'
    b'   ],\n'
    b'   "FrameSequence" : 40213, "Mark" : 0, "Name" : "FaceDetection",\n'
    b'   "PTS" : 42949672960.0, "UTC" : 1764318031, "UTCMS" : 420\n'
    b'}\n'
)
DAHUA_FACE_RECOGNITION = (
    b'Code=FaceRecognition;action=Pulse;index=1;data={'
    b'"Candidates":[{"Person":{"Name":"x"},"Similarity":81},{"Similarity":64}],'
    b'"Object":{"BoundingBox":[0,0,8192,4096],"ObjectID":3,"ObjectType":"HumanFace"},'
    b'"UTC":1764318032}'
)


def test_hikvision_face_detection_region_becomes_a_top_left_box() -> None:
    [capture] = parse("hikvision_isapi", HIK_FACE_DETECTION, HIK_TYPES)
    assert capture.event_type == "faceDetection"
    assert capture.state == "start"
    assert capture.channel == 1
    assert capture.mac == "44:19:b6:6d:24:85"
    assert capture.camera_time == datetime(2026, 11, 28, 8, 20, 31, tzinfo=UTC)
    [box] = capture.faces
    # 0…1000 grid from the bottom-left → fractions from the top-left.
    assert box.x == pytest.approx(0.4)
    assert box.y == pytest.approx(0.2)
    assert box.width == pytest.approx(0.1)
    assert box.height == pytest.approx(0.2)


def test_hikvision_heartbeat_and_other_events_carry_no_face() -> None:
    assert parse("hikvision_isapi", HIK_HEARTBEAT, HIK_TYPES) == []
    motion = HIK_FACE_DETECTION.replace(b">faceDetection<", b">VMD<")
    assert parse("hikvision_isapi", motion, HIK_TYPES) == []


def test_hikvision_json_face_capture_lists_every_face() -> None:
    [capture] = parse("hikvision_isapi", HIK_FACE_CAPTURE_JSON, HIK_TYPES)
    assert capture.event_type == "faceCapture"
    assert capture.channel == 2
    assert capture.object_ids == (7, 8)
    assert capture.mac == "44:19:b6:6d:24:85"
    assert capture.camera_time == datetime(2026, 11, 28, 8, 20, 30, tzinfo=UTC)
    assert [f.x for f in capture.faces] == [pytest.approx(0.462), pytest.approx(0.1)]


def test_hikvision_multipart_alert_stream() -> None:
    # The boundary's word inside a part is no delimiter.
    described = HIK_FACE_DETECTION.replace(b"faceDetection alarm", b"boundary --boundary x")
    stream = b"".join(
        b"--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(part) + part + b"\r\n"
        for part in (HIK_HEARTBEAT, described, HIK_FACE_CAPTURE_JSON))
    parts = list(split_multipart("multipart/mixed; boundary=boundary", stream))
    assert len(parts) == 3
    captures = [c for p in parts for c in parse("hikvision_isapi", p, HIK_TYPES)]
    assert [c.event_type for c in captures] == ["faceDetection", "faceCapture"]


@pytest.mark.parametrize("payload", [b"<EventNotificationAlert><eventType>",
                                     b"<Other/>", b'{"eventType": "faceCapture", "faceCapture"'
                                     b': [{"faces": [{"faceId": 1}]}]}'])
def test_hikvision_broken_payloads_are_refused(payload: bytes) -> None:
    with pytest.raises(FaceEventMalformed):
        parse("hikvision_isapi", payload, HIK_TYPES)


def test_dahua_face_detection_box_on_the_8192_grid() -> None:
    [capture] = parse("dahua_event_manager", DAHUA_FACE_DETECTION, DAHUA_TYPES)
    assert (capture.event_type, capture.state, capture.channel) == ("FaceDetection", "start", 1)
    assert capture.object_ids == (12,)
    assert capture.camera_time == datetime.fromtimestamp(1764318031, UTC)
    [box] = capture.faces
    assert (box.x, box.y, box.width, box.height) == (0.25, 0.125, 0.25, 0.25)


def test_dahua_face_recognition_object_and_best_candidate() -> None:
    [capture] = parse("dahua_event_manager", DAHUA_FACE_RECOGNITION, DAHUA_TYPES)
    assert (capture.state, capture.channel, capture.object_ids) == ("pulse", 2, (3,))
    assert capture.faces[0].width == 1.0 and capture.faces[0].height == 0.5
    assert capture.extra == {"similarity": 81}


@pytest.mark.parametrize("declared", ["myboundary", "--myboundary", '"myboundary"'])
def test_dahua_multipart_stream_with_heartbeats(declared: str) -> None:
    parts = [b"Heartbeat", DAHUA_FACE_DETECTION,
             b"Code=VideoMotion;action=Start;index=0", DAHUA_FACE_RECOGNITION]
    stream = b"".join(b"--myboundary\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                      % len(p) + p + b"\r\n" for p in parts)
    bodies = list(split_multipart(f"multipart/x-mixed-replace; boundary={declared}", stream))
    assert len(bodies) == 4
    captures = [c for b in bodies for c in parse("dahua_event_manager", b, DAHUA_TYPES)]
    assert [c.event_type for c in captures] == ["FaceDetection", "FaceRecognition"]


@pytest.mark.parametrize("line", [b"Code=FaceDetection;action=Start",
                                  b"Code=FaceDetection;action=Start;index=0;data={oops",
                                  b'Code=FaceDetection;action=Start;index=0;data='
                                  b'{"Faces":[{"BoundingBox":[1,2]}]}'])
def test_dahua_broken_lines_are_refused(line: bytes) -> None:
    with pytest.raises(FaceEventMalformed):
        parse("dahua_event_manager", line, DAHUA_TYPES)


def test_every_brand_file_names_a_registered_parser() -> None:
    configs = load(FIRMWARE_DIR, parsers=set(face_events.PARSERS))
    used = {c.face_events.parser for c in configs.brands.values() if c.face_events}
    assert used == {"hikvision_isapi", "dahua_event_manager"}
