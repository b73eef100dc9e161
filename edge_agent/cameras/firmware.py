"""Per-brand camera descriptions read from `firmware_configs/*.yaml` (one file a brand).

A file is validated by `BrandConfig` (unknown keys refused), so a typo in a field
engineer's edit fails at start rather than at the first camera. A brand is recognised by
the ONVIF manufacturer it reports, else by the MAC prefix of its interface; anything else
is `generic` (plain ONVIF Profile S).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

GENERIC = "generic"
_MAC_PREFIX = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){2}$")
_TEMPLATE_FIELDS = {"host", "rtsp_port", "channel"}


class FirmwareConfigError(ValueError):
    """A file in firmware_configs/ is not a valid brand description."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandMatch(_Strict):
    manufacturers: list[str] = Field(
        default_factory=list, description="ONVIF Manufacturer values (case-insensitive, "
        "substring) that name this brand")
    mac_prefixes: list[str] = Field(
        default_factory=list, description="OUIs 'aa:bb:cc' of the brand's interfaces")

    @field_validator("mac_prefixes")
    @classmethod
    def _ouis(cls, value: list[str]) -> list[str]:
        lowered = [v.lower() for v in value]
        for prefix in lowered:
            if not _MAC_PREFIX.match(prefix):
                raise ValueError(f"MAC prefix {prefix!r} is not 'aa:bb:cc'")
        return lowered


class Ports(_Strict):
    http: int = Field(80, ge=1, le=65535, description="web / ISAPI / CGI port")
    rtsp: int = Field(554, ge=1, le=65535)
    onvif: int = Field(80, ge=1, le=65535, description="ONVIF device service port")


class RtspTemplates(_Strict):
    main: str | None = Field(None, description="main stream; fields {host} {rtsp_port} "
                             "{channel}; null: use the ONVIF GetStreamUri answer")
    sub: str | None = Field(None, description="sub stream, same fields")

    @field_validator("main", "sub")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("rtsp://"):
            raise ValueError("an RTSP template starts with rtsp://")
        names = set(re.findall(r"{(\w+)}", value))
        if unknown := names - _TEMPLATE_FIELDS:
            raise ValueError(f"unknown template fields {sorted(unknown)}")
        return value


class Quirks(_Strict):
    adjust_time: bool = Field(True, description="sign ONVIF requests with the camera's "
                              "clock offset (queried first); off where that query needs auth")
    rewrite_stream_host: bool = Field(False, description="replace the host of a stream URI "
                                      "with the address the camera was reached on")
    notes: list[str] = Field(default_factory=list, description="for field engineers")


class FaceEvents(_Strict):
    parser: str = Field(description="name of a registered face-event parser")
    path: str = Field(description="HTTP path (and query) of the event stream")
    auth: Literal["digest", "basic"] = "digest"
    event_types: list[str] = Field(min_length=1, description="event codes that carry a face")


class BrandConfig(_Strict):
    brand: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    display_name: str = Field(min_length=1, max_length=40)
    match: BrandMatch
    ports: Ports
    rtsp: RtspTemplates
    quirks: Quirks
    face_events: FaceEvents | None = None

    def rtsp_url(self, stream: Literal["main", "sub"], *, host: str,
                 channel: int = 1, rtsp_port: int | None = None) -> str | None:
        template = self.rtsp.main if stream == "main" else self.rtsp.sub
        if template is None:
            return None
        return template.format(host=host, rtsp_port=rtsp_port or self.ports.rtsp,
                               channel=channel)


@dataclass(frozen=True)
class FirmwareConfigs:
    brands: Mapping[str, BrandConfig]

    def get(self, brand: str) -> BrandConfig:
        return self.brands.get(brand) or self.brands[GENERIC]

    def identify(self, *, manufacturer: str | None, mac: str | None) -> BrandConfig:
        """The brand of a camera: by its ONVIF manufacturer first (OEM firmware keeps the
        maker's name there), then by the OUI of its MAC, else generic."""
        if manufacturer:
            name = manufacturer.strip().lower()
            for config in self.brands.values():
                if any(m.lower() in name for m in config.match.manufacturers):
                    return config
        if mac:
            oui = mac.lower()[:8]
            for config in self.brands.values():
                if oui in config.match.mac_prefixes:
                    return config
        return self.brands[GENERIC]


def load(directory: str | Path, *, parsers: set[str] | None = None) -> FirmwareConfigs:
    """Every `*.yaml` in `directory`; `parsers`: the registered face-event parser names
    (a file naming another is refused)."""
    folder = Path(directory)
    brands: dict[str, BrandConfig] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            config = BrandConfig.model_validate(data)
        except (yaml.YAMLError, ValidationError) as exc:
            raise FirmwareConfigError(f"{path.name}: {exc}") from exc
        if config.brand in brands:
            raise FirmwareConfigError(f"{path.name}: brand {config.brand!r} is defined twice")
        if (parsers is not None and config.face_events is not None
                and config.face_events.parser not in parsers):
            raise FirmwareConfigError(
                f"{path.name}: no face-event parser named {config.face_events.parser!r}")
        brands[config.brand] = config
    if GENERIC not in brands:
        raise FirmwareConfigError(f"{folder}: generic.yaml (the ONVIF fallback) is missing")
    return FirmwareConfigs(brands)


def with_credentials(url: str, username: str, password: str) -> str:
    """The stream URL with `user:password@` for the reader; built at use time only, never
    stored or logged (the stored URL carries no credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def without_credentials(url: str, *, host: str | None = None) -> str:
    """A camera's URL stripped of any user-info (some cameras put theirs in), and with its
    host replaced by `host` when given (the `rewrite_stream_host` quirk)."""
    parts = urlsplit(url)
    name = host if host is not None else (parts.hostname or "")
    if ":" in name:
        name = f"[{name}]"
    netloc = name if parts.port is None else f"{name}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
