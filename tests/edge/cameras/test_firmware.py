"""firmware_configs/: brands recognised, templates filled, bad files refused, and a new
brand added by a file alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge_agent.cameras import face_events
from edge_agent.cameras.firmware import (
    FirmwareConfigError,
    load,
    with_credentials,
    without_credentials,
)
from tests.edge.cameras.fakes import FIRMWARE_DIR


def test_the_five_brands_and_their_templates() -> None:
    configs = load(FIRMWARE_DIR, parsers=set(face_events.PARSERS))
    assert set(configs.brands) == {"hikvision", "dahua", "uniview", "axis", "generic"}
    hik = configs.get("hikvision")
    assert hik.rtsp_url("main", host="10.0.0.5") == "rtsp://10.0.0.5:554/Streaming/Channels/101"
    assert hik.rtsp_url("sub", host="10.0.0.5", channel=2) == (
        "rtsp://10.0.0.5:554/Streaming/Channels/202")
    assert configs.get("dahua").rtsp_url("sub", host="h", rtsp_port=8554) == (
        "rtsp://h:8554/cam/realmonitor?channel=1&subtype=1")
    assert configs.get("generic").rtsp_url("main", host="h") is None
    assert configs.get("axis").quirks.adjust_time is False
    assert configs.get("no-such-brand").brand == "generic"


@pytest.mark.parametrize(("manufacturer", "mac", "brand"), [
    ("HIKVISION", None, "hikvision"),
    ("Zhejiang Dahua Technology Co., Ltd.", "44:19:b6:00:00:01", "dahua"),  # name wins
    (None, "3C:EF:8C:12:34:56", "dahua"),
    ("UNV", None, "uniview"),
    ("AXIS", None, "axis"),
    ("Acme Cameras", "00:11:22:33:44:55", "generic"),
])
def test_brand_by_manufacturer_then_mac(manufacturer: str | None, mac: str | None,
                                        brand: str) -> None:
    assert load(FIRMWARE_DIR).identify(manufacturer=manufacturer, mac=mac).brand == brand


def test_adding_a_brand_is_adding_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    shutil.copytree(FIRMWARE_DIR, folder)
    (folder / "ezviz.yaml").write_text(
        "brand: ezviz\ndisplay_name: 萤石\nmatch: {manufacturers: [ezviz], mac_prefixes: []}\n"
        "ports: {http: 80, rtsp: 554, onvif: 80}\n"
        "rtsp: {main: 'rtsp://{host}:{rtsp_port}/h264/ch{channel}/main/av_stream', sub: null}\n"
        "quirks: {adjust_time: true, rewrite_stream_host: false, notes: []}\n"
        "face_events: {parser: hikvision_isapi, path: /ISAPI/Event/notification/alertStream,"
        " auth: digest, event_types: [faceSnap]}\n", encoding="utf-8")
    configs = load(folder, parsers=set(face_events.PARSERS))
    ezviz = configs.identify(manufacturer="EZVIZ", mac=None)
    assert ezviz.brand == "ezviz"
    assert ezviz.rtsp_url("main", host="h") == "rtsp://h:554/h264/ch1/main/av_stream"


@pytest.mark.parametrize(("text", "error"), [
    ("brand: x1\nunknown_key: 1\n", "unknown_key"),
    ("brand: acme\ndisplay_name: A\nmatch: {mac_prefixes: ['zz']}\nports: {}\nrtsp: {}\n"
     "quirks: {}\n", "MAC prefix"),
    ("brand: acme\ndisplay_name: A\nmatch: {}\nports: {}\nrtsp: {main: 'rtsp://{host}/{pwd}'}\n"
     "quirks: {}\n", "unknown template fields"),
    ("brand: acme\ndisplay_name: A\nmatch: {}\nports: {}\nrtsp: {}\nquirks: {}\n"
     "face_events: {parser: nope, path: /x, event_types: [a]}\n", "no face-event parser"),
    ("brand: [unclosed\n", "acme.yaml"),
])
def test_invalid_brand_files_are_refused(tmp_path: Path, text: str, error: str) -> None:
    folder = tmp_path / "configs"
    shutil.copytree(FIRMWARE_DIR, folder)
    (folder / "acme.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FirmwareConfigError, match=error):
        load(folder, parsers=set(face_events.PARSERS))


def test_generic_fallback_is_required(tmp_path: Path) -> None:
    shutil.copytree(FIRMWARE_DIR, tmp_path / "c")
    (tmp_path / "c" / "generic.yaml").unlink()
    with pytest.raises(FirmwareConfigError, match="generic"):
        load(tmp_path / "c")


def test_stream_urls_get_credentials_only_at_use() -> None:
    stored = without_credentials("rtsp://admin:old@0.0.0.0:554/cam/realmonitor?channel=1",
                                 host="192.168.1.108")
    assert stored == "rtsp://192.168.1.108:554/cam/realmonitor?channel=1"
    assert with_credentials(stored, "admin", "p@ss:w/rd") == (
        "rtsp://admin:p%40ss%3Aw%2Frd@192.168.1.108:554/cam/realmonitor?channel=1")
    assert without_credentials("rtsp://u:p@[fe80::1]/s") == "rtsp://[fe80::1]/s"
