"""The network half of discovery: probe the LAN, then ask each camera over ONVIF. Runs
before any store transaction (a scan takes seconds; the store's write lock must not wait
on cameras)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from edge_agent.cameras.discovery import ProbeMatch, probe
from edge_agent.cameras.firmware import BrandConfig, FirmwareConfigs, without_credentials
from edge_agent.cameras.onvif_device import DeviceReport, OnvifFailure, query_device
from edge_agent.settings import EdgeSettings

# Cameras asked at once during a scan: a 2-core appliance, and cameras that dislike bursts.
MAX_PARALLEL_QUERIES = 4


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class Target:
    """A camera to ask: where, what brand it looks like so far, with which credentials."""

    host: str
    port: int
    endpoint: str | None
    brand_hint: BrandConfig
    credentials: Credentials | None


@dataclass(frozen=True)
class Inspection:
    """What one camera answered (or why not). `credentials` are the ones that worked,
    to be stored; None when none were tried or they failed."""

    host: str
    port: int
    endpoint: str | None
    brand: BrandConfig
    state: str  # shared.cameras.OnvifState
    error: str | None = None
    report: DeviceReport | None = None
    credentials: Credentials | None = None


def device_address(match: ProbeMatch) -> tuple[str, int] | None:
    """The device service a match advertises *on the address it answered from*. A reply
    naming another host is not followed: anything on the LAN can answer a probe, and the
    agent would otherwise sign requests (with the site's camera password) to wherever
    it points."""
    for xaddr in match.xaddrs:
        parts = urlsplit(xaddr)
        if parts.scheme in ("http", "https") and parts.hostname == match.source:
            return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    return None


def _templated(report: DeviceReport, brand: BrandConfig, host: str) -> DeviceReport:
    """The brand's quirks applied to what the camera said: its stream host rewritten to
    the address we reached it on, and the brand's RTSP templates where it named no URI
    (first profile main, second sub)."""
    profiles = []
    for index, profile in enumerate(report.profiles):
        uri = profile.stream_uri
        if uri and brand.quirks.rewrite_stream_host:
            uri = without_credentials(uri, host=host)
        if not uri and index < 2:
            uri = brand.rtsp_url("main" if index == 0 else "sub", host=host)
        profiles.append(replace(profile, stream_uri=uri))
    return replace(report, profiles=tuple(profiles))


async def inspect(settings: EdgeSettings, configs: FirmwareConfigs, target: Target) -> Inspection:
    host, port, endpoint, brand_hint = target.host, target.port, target.endpoint, target.brand_hint
    credentials = target.credentials
    if credentials is None:
        return Inspection(host, port, endpoint, brand_hint, "no_credentials")
    try:
        report = await query_device(
            host, port, credentials.username, credentials.password,
            adjust_time=brand_hint.quirks.adjust_time,
            timeout_seconds=settings.onvif_timeout_seconds)
    except OnvifFailure as exc:
        return Inspection(host, port, endpoint, brand_hint, exc.code, error=str(exc)[:200])
    brand = configs.identify(manufacturer=report.manufacturer, mac=report.mac)
    return Inspection(host, port, endpoint, brand, "ok", report=_templated(report, brand, host),
                      credentials=credentials)


async def probe_lan(settings: EdgeSettings, *, multicast: bool,
                    addresses: Sequence[str]) -> list[ProbeMatch]:
    return await probe(multicast=multicast, addresses=addresses, port=settings.discovery_port,
                       interface=settings.discovery_interface,
                       wait_seconds=settings.discovery_wait_seconds)


async def inspect_many(settings: EdgeSettings, configs: FirmwareConfigs,
                       targets: Sequence[Target]) -> list[Inspection]:
    """`inspect` for each target, a few at a time."""
    gate = asyncio.Semaphore(MAX_PARALLEL_QUERIES)

    async def one(target: Target) -> Inspection:
        async with gate:
            return await inspect(settings, configs, target)

    return list(await asyncio.gather(*(one(t) for t in targets)))
