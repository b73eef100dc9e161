"""The field engineer's camera routes end to end: WS-Discovery over UDP and ONVIF over
HTTP against the fake camera, the records in the real SQLite store, the password sealed,
and the inventory queued for the cloud without credentials."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.cameras.inventory import PASSWORD_CONTEXT
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from shared.cameras import CameraRemoved, CameraUpdated
from tests.edge.cameras.fakes import camera_on_lan
from tests.edge.helpers import KIOSK_TOKEN, make_settings, settings_like
from tests.fakes.onvif_camera import FakeCamera

ENGINEER_TOKEN = "engineer-token-for-tests-0123456789"
ENGINEER = {"Authorization": f"Bearer {ENGINEER_TOKEN}"}


@pytest.fixture
def camera() -> FakeCamera:
    return FakeCamera()


@pytest.fixture
def lan(camera: FakeCamera) -> Iterator[tuple[str, int, int]]:
    with camera_on_lan(camera) as address:
        yield address


def settings_for(tmp_path: Path, udp: int, **overrides: Any) -> EdgeSettings:
    values: dict[str, Any] = {"engineer_token": ENGINEER_TOKEN, "discovery_port": udp,
                              "discovery_interface": "127.0.0.1",
                              "discovery_wait_seconds": 0.6, "onvif_timeout_seconds": 10}
    values.update(overrides)
    return make_settings(tmp_path, **values)


@pytest.fixture
def settings(tmp_path: Path, lan: tuple[str, int, int]) -> EdgeSettings:
    return settings_for(tmp_path, lan[2])


@pytest.fixture
def client(settings: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, sync=False)) as test_client:
        yield test_client


def events(settings: EdgeSettings) -> list[tuple[str, dict[str, Any]]]:
    async def run() -> list[tuple[str, dict[str, Any]]]:
        store = await Store.open(settings.database_path)
        try:
            rows = await store.read(outbox.rows_between, 1, 10_000, 10_000)
            return [(r.type, outbox.open_payload(settings.cipher, r)) for r in rows]
        finally:
            await store.close()

    return asyncio.run(run())


def stored(settings: EdgeSettings) -> list[dict[str, Any]]:
    with sqlite3.connect(settings.database_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM camera ORDER BY discovered_at")]


def scan(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    response = client.post("/api/v1/cameras/scan", json={"multicast": True, **body},
                           headers=ENGINEER)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


@pytest.mark.parametrize("headers", [{}, {"Authorization": f"Bearer {KIOSK_TOKEN}"},
                                     {"Authorization": "Bearer " + "x" * 40}])
def test_the_camera_routes_want_the_engineer_token(client: TestClient,
                                                   headers: dict[str, str]) -> None:
    for method, url in (("GET", "/api/v1/cameras"), ("POST", "/api/v1/cameras/scan")):
        response = client.request(method, url, headers=headers, json={})
        assert response.status_code == 401
        assert response.json()["code"] == "engineer_token_invalid"


def test_without_an_engineer_token_configured_nobody_gets_in(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, 3702, engineer_token=None)
    with TestClient(create_app(settings, sync=False)) as client:
        response = client.get("/api/v1/cameras", headers=ENGINEER)
    assert response.status_code == 403
    assert response.json()["code"] == "engineer_access_off"


def test_scan_then_credentials_then_confirm(client: TestClient, settings: EdgeSettings,
                                            camera: FakeCamera) -> None:
    [found] = scan(client)
    assert (found["brand"], found["brand_name"]) == ("hikvision", "海康威视")  # from scopes
    assert found["onvif_state"] == "no_credentials"
    assert found["identity"] == f"endpoint:{camera.endpoint}"
    assert found["has_credentials"] is False and found["notes"]

    url = f"/api/v1/cameras/{found['id']}"
    refused = client.put(f"{url}/credentials", headers=ENGINEER,
                         json={"username": "admin", "password": "wrong"})
    assert refused.status_code == 422 and refused.json()["code"] == "camera_auth_failed"
    [row] = stored(settings)
    assert (row["onvif_state"], row["password_enc"]) == ("auth_failed", None)
    not_ready = client.post(f"{url}/confirm", headers=ENGINEER, json={"name": "大堂入口"})
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "camera_not_ready"

    answer = client.put(f"{url}/credentials", headers=ENGINEER,
                        json={"username": camera.username, "password": camera.password})
    assert answer.status_code == 200, answer.text
    ready = answer.json()
    assert ready["identity"] == "mac:44:19:b6:6d:24:85"
    assert ready["serial"] == camera.serial and ready["model"] == camera.model
    assert [p["stream_uri"] for p in ready["profiles"]] == [
        "rtsp://127.0.0.1:554/Streaming/Channels/101",
        "rtsp://127.0.0.1:554/Streaming/Channels/102"]
    assert "password" not in answer.text.lower()

    confirmed = client.post(f"{url}/confirm", headers=ENGINEER, json={"name": "大堂入口"})
    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["name"]) == ("confirmed", "大堂入口")

    # The password at rest: sealed for its column, readable with the agent's keys only.
    [row] = stored(settings)
    assert camera.password not in row["password_enc"]
    assert settings.cipher.decrypt(row["password_enc"], context=PASSWORD_CONTEXT) == (
        camera.password)

    queued = events(settings)
    assert [t for t, _ in queued] == ["camera.updated"] * 4  # found, refused, ok, confirmed
    for _, payload in queued:
        CameraUpdated.model_validate(payload)
        assert camera.password not in json.dumps(payload)
        assert "username" not in payload
    assert queued[-1][1]["status"] == "confirmed"
    assert queued[-1][1]["has_credentials"] is True


def test_a_scan_with_credentials_asks_at_once_and_a_rescan_changes_nothing(
        client: TestClient, settings: EdgeSettings, camera: FakeCamera) -> None:
    [found] = scan(client, username=camera.username, password=camera.password)
    assert (found["onvif_state"], found["mac"]) == ("ok", "44:19:b6:6d:24:85")
    [again] = scan(client)  # no credentials given: the stored ones are used
    assert (again["id"], again["onvif_state"]) == (found["id"], "ok")
    # A site-wide account typed for new cameras does not override this one's own.
    [third] = scan(client, username="admin", password="the-common-password")
    assert third["onvif_state"] == "ok"
    assert len(events(settings)) == 1  # the second scan changed nothing public
    assert client.get("/api/v1/cameras", headers=ENGINEER).json()[0]["id"] == found["id"]


def test_a_camera_that_moved_is_one_record(tmp_path: Path, camera: FakeCamera) -> None:
    """Added by address, then found again elsewhere (DHCP gave it another address): once
    it answers with its MAC the two records are one, the first one kept."""
    with camera_on_lan(camera) as (host, port, _udp):
        settings = settings_for(tmp_path, _udp)
        with TestClient(create_app(settings, sync=False)) as client:
            added = client.post("/api/v1/cameras", headers=ENGINEER, json={
                "host": host, "port": port, "username": camera.username,
                "password": camera.password})
            assert added.status_code == 201, added.text
            first = added.json()
            client.post(f"/api/v1/cameras/{first['id']}/confirm", headers=ENGINEER,
                        json={"name": "售楼处门口"})
    with camera_on_lan(camera) as (_host, new_port, udp):
        settings = settings_like(settings, discovery_port=udp)  # same site, same keys
        with TestClient(create_app(settings, sync=False)) as client:
            [twin] = scan(client)
            assert twin["id"] != first["id"] and twin["onvif_state"] == "no_credentials"
            merged = client.put(f"/api/v1/cameras/{twin['id']}/credentials", headers=ENGINEER,
                                json={"username": camera.username, "password": camera.password})
            assert merged.status_code == 200, merged.text
            body = merged.json()
            listed = client.get("/api/v1/cameras", headers=ENGINEER).json()
    assert body["id"] == first["id"] and body["onvif_port"] == new_port
    assert (body["status"], body["name"]) == ("confirmed", "售楼处门口")
    assert [c["id"] for c in listed] == [first["id"]]
    removed = [p for t, p in events(settings) if t == "camera.removed"]
    assert removed == [CameraRemoved(camera_id=twin["id"], merged_into=first["id"])
                       .model_dump(mode="json")]


def test_adding_by_address_needs_an_answering_camera(client: TestClient,
                                                     lan: tuple[str, int, int],
                                                     settings: EdgeSettings) -> None:
    host, port, _ = lan
    wrong = client.post("/api/v1/cameras", headers=ENGINEER, json={
        "host": host, "port": port, "username": "admin", "password": "nope"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "camera_auth_failed"
    assert stored(settings) == [] and events(settings) == []


@pytest.mark.parametrize("body", [
    {"host": "8.8.8.8", "port": 80, "username": "a", "password": "b"},
    {"host": "camera.example.com", "port": 80, "username": "a", "password": "b"},
    {"host": "192.168.1.64", "port": 80, "username": "a:b", "password": "b"},
    {"host": "192.168.1.64", "port": 70000, "username": "a", "password": "b"},
    {"host": "192.168.1.64", "username": "a", "password": "b", "extra": 1},
])
def test_bad_additions_are_refused_before_any_network(client: TestClient,
                                                      body: dict[str, Any]) -> None:
    response = client.post("/api/v1/cameras", headers=ENGINEER, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_scan_bodies_are_checked(client: TestClient) -> None:
    for body in ({"multicast": False}, {"username": "admin"},
                 {"addresses": ["1.1.1.1"]}):
        assert client.post("/api/v1/cameras/scan", headers=ENGINEER,
                           json=body).status_code == 422


def test_unknown_camera(client: TestClient) -> None:
    response = client.post("/api/v1/cameras/6f9619ff-8b86-d011-b42d-00c04fc964ff/ignore",
                           headers=ENGINEER)
    assert response.status_code == 404 and response.json()["code"] == "camera_not_found"


def test_the_engineer_sets_how_a_camera_is_read(client: TestClient, lan: tuple[str, int, int],
                                                camera: FakeCamera,
                                                settings: EdgeSettings) -> None:
    host, port, _ = lan
    added = client.post("/api/v1/cameras", headers=ENGINEER, json={
        "host": host, "port": port, "username": camera.username,
        "password": camera.password}).json()
    assert (added["sample_fps"], added["capture_profile"]) == (2.0, None)  # store v15 default
    url = f"/api/v1/cameras/{added['id']}/capture"
    token = added["profiles"][1]["token"]
    before = events(settings)
    changed = client.put(url, headers=ENGINEER, json={"sample_fps": 4, "profile_token": token})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["sample_fps"], changed.json()["capture_profile"]) == (4.0, token)
    [row] = stored(settings)
    assert (row["sample_fps"], row["capture_profile"]) == (4.0, token)
    assert events(settings) == before  # the health reports carry the rate; nothing else goes up

    unknown = client.put(url, headers=ENGINEER, json={"sample_fps": 2, "profile_token": "x"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "camera_profile_unknown"
    for body in ({"sample_fps": 0}, {"sample_fps": 11}, {"sample_fps": 2, "extra": 1}, {}):
        assert client.put(url, headers=ENGINEER, json=body).status_code == 422
    assert client.put(url, json={"sample_fps": 2}).status_code == 401
    assert [(r["sample_fps"], r["capture_profile"]) for r in stored(settings)] == [(4.0, token)]


def test_the_engineer_sees_whether_a_confirmed_camera_streams(
        tmp_path: Path, lan: tuple[str, int, int], camera: FakeCamera) -> None:
    host, port, udp = lan
    settings = settings_for(tmp_path, udp, camera_health_check_seconds=0.2)
    with TestClient(create_app(settings, sync=False)) as client:
        added = client.post("/api/v1/cameras", headers=ENGINEER, json={
            "host": host, "port": port, "username": camera.username,
            "password": camera.password}).json()
        assert added["capture"] is None  # not in use: not read
        client.post(f"/api/v1/cameras/{added['id']}/confirm", headers=ENGINEER,
                    json={"name": "大堂入口"})
        deadline = time.monotonic() + 20
        while True:  # the fake serves ONVIF only: its RTSP stream cannot be opened
            [listed] = client.get("/api/v1/cameras", headers=ENGINEER).json()
            capture = listed["capture"]
            if capture is not None and capture["errors"] >= 1:
                break
            assert time.monotonic() < deadline, listed
            time.sleep(0.1)
    assert capture["state"] == "reconnecting" and capture["last_error"] == "open_failed"
    assert capture["frames"] == 0 and capture["last_frame_at"] is None
    assert camera.password not in json.dumps(listed)
