"""What an ONVIF camera tells about itself (onvif-zeep-async, ADR 0035): device
information, network interfaces (for its MAC), media profiles and their RTSP stream URIs.

Errors are sorted into what a field engineer can act on: wrong credentials, no answer,
or an answer that is not ONVIF. The library's own timeouts are 90 s; a query here is
bounded by `timeout_seconds` in all.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import zeep.exceptions
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError

from edge_agent.cameras.firmware import without_credentials

_STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
_AUTH_FAULTS = ("notauthorized", "not authorized", "authority failure", "sender not authorized")


class OnvifFailure(Exception):
    """Why a camera could not be queried; `code` is stable (API and UI show it)."""

    code = "onvif_error"


class OnvifAuthFailed(OnvifFailure):
    code = "auth_failed"


class OnvifUnreachable(OnvifFailure):
    code = "unreachable"


@dataclass(frozen=True)
class MediaProfile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    fps: int | None
    stream_uri: str | None  # without credentials


@dataclass(frozen=True)
class DeviceReport:
    manufacturer: str | None
    model: str | None
    firmware: str | None
    serial: str | None
    hardware_id: str | None
    mac: str | None
    profiles: tuple[MediaProfile, ...] = field(default_factory=tuple)


def normalise_mac(value: str | None) -> str | None:
    """'44-19-B6-6D-24-85' → '44:19:b6:6d:24:85'; None for anything that is not a
    unicast, non-zero MAC (some cameras report 00:00:00:00:00:00 on a virtual port)."""
    if not value:
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", value).lower()
    if len(digits) != 12 or digits == "0" * 12 or int(digits[1], 16) & 1:
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def _text(value: Any, limit: int = 64) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:limit] or None


def _first_mac(interfaces: Any) -> str | None:
    for interface in interfaces or []:
        if getattr(interface, "Enabled", True) is False:
            continue
        mac = normalise_mac(getattr(getattr(interface, "Info", None), "HwAddress", None))
        if mac:
            return mac
    return None


def _profile(raw: Any) -> tuple[str, str, str | None, int | None, int | None, int | None]:
    encoder = getattr(raw, "VideoEncoderConfiguration", None)
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    return (str(raw.token), _text(getattr(raw, "Name", None)) or str(raw.token),
            _text(getattr(encoder, "Encoding", None), 16),
            getattr(resolution, "Width", None), getattr(resolution, "Height", None),
            getattr(rate, "FrameRateLimit", None))


async def _query(camera: ONVIFCamera, *, rewrite_host: str | None) -> DeviceReport:
    await camera.update_xaddrs()
    device = await camera.create_devicemgmt_service()
    info = await device.GetDeviceInformation()
    try:
        mac = _first_mac(await device.GetNetworkInterfaces())
    except zeep.exceptions.Fault:
        mac = None  # some NVR channels refuse it: identity falls back to the serial
    media = await camera.create_media_service()
    profiles = []
    for raw in await media.GetProfiles() or []:
        token, name, encoding, width, height, fps = _profile(raw)
        answer = await media.GetStreamUri({"StreamSetup": _STREAM_SETUP, "ProfileToken": token})
        uri = getattr(answer, "Uri", None)
        profiles.append(MediaProfile(
            token=token[:64], name=name, encoding=encoding, width=width, height=height, fps=fps,
            stream_uri=without_credentials(str(uri), host=rewrite_host)[:500] if uri else None))
    return DeviceReport(
        manufacturer=_text(info.Manufacturer), model=_text(info.Model),
        firmware=_text(info.FirmwareVersion), serial=_text(info.SerialNumber),
        hardware_id=_text(info.HardwareId), mac=mac, profiles=tuple(profiles[:16]))


def _is_auth_fault(error: BaseException) -> bool:
    text = " ".join(str(part) for part in (
        error, getattr(error, "code", ""), getattr(error, "subcodes", ""))).lower()
    return any(marker in text for marker in _AUTH_FAULTS)


def _camera(host: str, port: int, username: str | None, password: str | None,
            adjust_time: bool) -> ONVIFCamera:
    # Quirk of the library: its constructor deletes http_proxy / https_proxy from the
    # whole process's environment (cameras are on the LAN). The agent's other clients
    # (the consultant login through the cloud) may need them: put them back.
    saved = {k: os.environ[k] for k in ("http_proxy", "https_proxy") if k in os.environ}
    try:
        return ONVIFCamera(host, port, username, password, no_cache=True,
                           adjust_time=adjust_time)
    finally:
        os.environ.update(saved)


async def query_device(
    host: str, port: int, username: str | None, password: str | None, *,
    adjust_time: bool = True, rewrite_stream_host: bool = False, timeout_seconds: float = 15,
) -> DeviceReport:
    """Ask the camera at host:port (its ONVIF device service) who it is and what it
    streams, signing with WS-UsernameToken (PasswordDigest)."""
    camera = _camera(host, port, username, password, adjust_time)
    try:
        async with asyncio.timeout(timeout_seconds):
            return await _query(camera, rewrite_host=host if rewrite_stream_host else None)
    except ONVIFAuthError as exc:
        raise OnvifAuthFailed(str(exc)) from exc
    except zeep.exceptions.TransportError as exc:
        if exc.status_code in (401, 403):
            raise OnvifAuthFailed(f"HTTP {exc.status_code}") from exc
        raise OnvifFailure(f"HTTP {exc.status_code}") from exc
    except zeep.exceptions.Fault as exc:
        if _is_auth_fault(exc):
            raise OnvifAuthFailed(str(exc.message)) from exc
        raise OnvifFailure(str(exc.message)[:200]) from exc
    except (TimeoutError, ONVIFTimeoutError, aiohttp.ClientConnectionError, OSError) as exc:
        raise OnvifUnreachable(type(exc).__name__) from exc
    except (ONVIFError, zeep.exceptions.Error, aiohttp.ClientError) as exc:
        if _is_auth_fault(exc):
            raise OnvifAuthFailed(str(exc)[:200]) from exc
        raise OnvifFailure(str(exc)[:200]) from exc
    finally:
        await camera.close()
