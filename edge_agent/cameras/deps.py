"""The field engineer's access to the camera routes: `Authorization: Bearer
<engineer_token>`, a secret of its own (the lobby tablet's kiosk token does not open
them: the tablet stands where visitors are)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edge_agent.cameras.capture import CaptureHealth
from edge_agent.cameras.capture_service import CaptureService
from edge_agent.cameras.errors import EngineerAccessOff, EngineerTokenInvalid
from edge_agent.cameras.firmware import FirmwareConfigs
from edge_agent.kiosk.deps import SettingsDep

_bearer = HTTPBearer(auto_error=False, description="现场工程师令牌 (ANCHANG_EDGE_ENGINEER_TOKEN)")


def require_engineer(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if settings.engineer_token is None:
        raise EngineerAccessOff()
    expected = settings.engineer_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, expected):
        raise EngineerTokenInvalid()


def get_firmware(request: Request) -> FirmwareConfigs:
    configs: FirmwareConfigs = request.app.state.firmware
    return configs


def get_capture_health(request: Request) -> dict[str, CaptureHealth]:
    """Each running reader's health by camera id (none when capture is off)."""
    capture: CaptureService | None = request.app.state.capture
    return {h.camera_id: h for h in capture.health()} if capture is not None else {}


EngineerAuth = Depends(require_engineer)
CaptureHealthDep = Annotated[dict[str, CaptureHealth], Depends(get_capture_health)]
FirmwareDep = Annotated[FirmwareConfigs, Depends(get_firmware)]
