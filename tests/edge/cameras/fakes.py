"""The camera tests' surroundings: firmware_configs/, and a fake camera on the LAN."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes.onvif_camera import DiscoveryResponder, FakeCamera
from tests.fakes.server import serving

FIRMWARE_DIR = Path(__file__).resolve().parents[3] / "firmware_configs"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def camera_on_lan(camera: FakeCamera) -> Iterator[tuple[str, int, int]]:
    """The fake camera serving ONVIF over HTTP and answering WS-Discovery on a UDP port:
    yields (host, http port, discovery port)."""
    with serving(camera.app()) as base:
        port = int(base.rsplit(":", 1)[1])
        udp = free_udp_port()
        responder = DiscoveryResponder(camera, f"{base}/onvif/device_service", udp).start()
        try:
            yield "127.0.0.1", port, udp
        finally:
            responder.stop()
