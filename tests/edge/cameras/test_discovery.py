"""Discovery end to end against the fake camera: WS-Discovery over UDP (the multicast
group on loopback, and unicast), then ONVIF over HTTP with WS-UsernameToken digests."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

import pytest

from edge_agent.cameras.discovery import ProbeMatch, parse_probe_matches, probe
from edge_agent.cameras.inspection import device_address
from edge_agent.cameras.onvif_device import (
    OnvifAuthFailed,
    OnvifUnreachable,
    normalise_mac,
    query_device,
)
from tests.edge.cameras.fakes import camera_on_lan, free_udp_port
from tests.fakes.onvif_camera import FakeCamera

pytestmark = pytest.mark.anyio


async def test_multicast_probe_finds_the_camera() -> None:
    camera = FakeCamera()
    with camera_on_lan(camera) as (host, port, udp):
        [match] = await probe(multicast=True, port=udp, interface="127.0.0.1",
                              wait_seconds=0.8)
    assert match.endpoint == camera.endpoint
    assert match.xaddrs == (f"http://{host}:{port}/onvif/device_service",)
    assert match.scope("name") == "HIKVISION"
    assert match.scope("hardware") == "DS-2CD2143G2-I"


async def test_unicast_probe_to_a_given_address() -> None:
    camera = FakeCamera()
    with camera_on_lan(camera) as (_host, _port, udp):
        matches = await probe(multicast=False, addresses=[f"127.0.0.1:{udp}"],
                              wait_seconds=0.6)
    assert [m.endpoint for m in matches] == [camera.endpoint]


async def test_nobody_answers_on_a_quiet_port() -> None:
    assert await probe(multicast=False, addresses=[f"127.0.0.1:{free_udp_port()}"],
                       wait_seconds=0.3) == []


def test_replies_to_other_probes_and_garbage_are_ignored() -> None:
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    reply = FakeCamera().probe_matches(f"urn:uuid:{theirs}", "http://10.0.0.9/onvif/device_service")
    assert parse_probe_matches(reply, ours, "10.0.0.9") == []
    assert len(parse_probe_matches(reply, theirs, "10.0.0.9")) == 1
    assert parse_probe_matches(b"<not xml", ours, "x") == []
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')
    assert parse_probe_matches(bomb, ours, "x") == []


async def test_onvif_device_profiles_and_stream_uris_with_digest_auth() -> None:
    camera = FakeCamera()
    with camera_on_lan(camera) as (host, port, _udp):
        report = await query_device(host, port, camera.username, camera.password)
    assert (report.manufacturer, report.model, report.serial) == (
        camera.manufacturer, camera.model, camera.serial)
    assert report.mac == "44:19:b6:6d:24:85"
    assert [(p.token, p.width, p.height, p.fps) for p in report.profiles] == [
        ("Profile_1", 1920, 1080, 25), ("Profile_2", 640, 360, 15)]
    assert report.profiles[0].stream_uri == "rtsp://127.0.0.1:554/Streaming/Channels/101"
    for operation in ("GetDeviceInformation", "GetNetworkInterfaces", "GetProfiles",
                      "GetStreamUri"):
        assert operation in camera.served
    assert camera.refused == []


async def test_the_process_keeps_its_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """onvif-zeep-async's constructor deletes http(s)_proxy from os.environ; the agent's
    cloud client may need them."""
    monkeypatch.setenv("http_proxy", "http://proxy.example.cn:3128")
    monkeypatch.setenv("https_proxy", "http://proxy.example.cn:3128")
    camera = FakeCamera()
    with camera_on_lan(camera) as (host, port, _udp):
        await query_device(host, port, camera.username, camera.password)
    assert os.environ["http_proxy"] == os.environ["https_proxy"] == (
        "http://proxy.example.cn:3128")


async def test_wrong_password_is_told_apart() -> None:
    camera = FakeCamera()
    with camera_on_lan(camera) as (host, port, _udp), pytest.raises(OnvifAuthFailed):
        await query_device(host, port, camera.username, "wrong-password")
    assert "GetDeviceInformation" in camera.refused
    assert "GetProfiles" not in camera.served


async def test_camera_clock_off_by_an_hour_still_authenticates() -> None:
    camera = FakeCamera(clock_offset=timedelta(hours=1))
    with camera_on_lan(camera) as (host, port, _udp):
        with pytest.raises(OnvifAuthFailed):  # signed with our clock: refused as stale
            await query_device(host, port, camera.username, camera.password, adjust_time=False)
        report = await query_device(host, port, camera.username, camera.password)
    assert report.serial == camera.serial


async def test_stream_host_rewritten_for_cameras_that_misreport_it() -> None:
    camera = FakeCamera(stream_host="0.0.0.0")  # noqa: S104 — what the quirky camera says
    with camera_on_lan(camera) as (host, port, _udp):
        report = await query_device(host, port, camera.username, camera.password,
                                    rewrite_stream_host=True)
    assert report.profiles[1].stream_uri == "rtsp://127.0.0.1:554/Streaming/Channels/102"


async def test_no_camera_at_the_address() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OnvifUnreachable):
        await query_device("127.0.0.1", port, "admin", "x", timeout_seconds=5)


def test_mac_normalised_and_junk_refused() -> None:
    assert normalise_mac("44-19-B6-6D-24-85") == "44:19:b6:6d:24:85"
    assert normalise_mac("00:00:00:00:00:00") is None
    assert normalise_mac("01:00:5e:00:00:01") is None  # multicast bit
    assert normalise_mac("nonsense") is None


def test_only_an_xaddr_on_the_replying_address_is_followed() -> None:
    """Anything on the LAN can answer a probe: a reply pointing the agent at another host
    (to collect signed requests made with the site's camera password) is not followed."""
    def match(xaddrs: tuple[str, ...], source: str) -> ProbeMatch:
        return ProbeMatch("urn:uuid:x", xaddrs, (), source)

    assert device_address(match(("http://192.168.1.64/onvif/device_service",),
                                "192.168.1.64")) == ("192.168.1.64", 80)
    assert device_address(match(("http://10.9.9.9:8080/onvif/device_service",
                                 "http://192.168.1.64:8000/onvif/device_service"),
                                "192.168.1.64")) == ("192.168.1.64", 8000)
    assert device_address(match(("http://203.0.113.7/onvif/device_service",),
                                "192.168.1.64")) is None
    assert device_address(match(("ftp://192.168.1.64/x",), "192.168.1.64")) is None
