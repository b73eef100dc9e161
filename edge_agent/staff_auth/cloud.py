"""The few cloud calls the consultant login makes: /auth/login, then /auth/edge-token.

Short timeouts: a phone waits on this, and when the WAN is down the answer must come
quickly and say so (已登录的手机仍可离线使用).
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from shared.errors import AppError, Unavailable

log = structlog.get_logger()
API = "/api/v1"


class CloudUnreachable(Unavailable):
    code = "cloud_unreachable"
    title = "暂时连不上云端，无法登录。已登录的手机在令牌有效期内仍可离线使用"


class CloudNotConfigured(Unavailable):
    code = "cloud_not_configured"
    title = "本案场设备未配置云端地址，手机无法登录，请联系管理员"


class CloudRefused(AppError):
    """The cloud's own answer (wrong password, locked, password change due …), relayed."""

    @classmethod
    def of(cls, response: httpx.Response) -> CloudRefused:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        status = response.status_code if 400 <= response.status_code < 500 else 502
        extra = {k: v for k, v in body.items() if k in ("retry_after_minutes",)}
        # A lock or rate limit at the cloud: the phone waits as long as the cloud says.
        retry_after = response.headers.get("Retry-After", "")
        return cls(str(body.get("detail") or "云端拒绝了登录请求"),
                   code=str(body.get("code") or "cloud_refused"), status=status, extra=extra,
                   retry_after=int(retry_after) if retry_after.isdigit() else None)


class CloudClient:
    def __init__(
        self, base_url: str, *, timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport

    async def _post(
        self, path: str, *, json: dict[str, Any] | None = None,
        token: str | None = None, params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout, transport=self.transport
            ) as client:
                response = await client.post(API + path, json=json, headers=headers,
                                              params=params)
        except httpx.HTTPError as exc:
            log.warning("cloud_unreachable", path=path, error=type(exc).__name__)
            raise CloudUnreachable() from exc
        if response.status_code >= 500:
            log.warning("cloud_error", path=path, status=response.status_code)
            raise CloudUnreachable()
        if response.status_code >= 400:
            raise CloudRefused.of(response)
        data = response.json()
        if not isinstance(data, dict):
            raise CloudUnreachable()
        return data

    async def login(self, username: str, password: str) -> dict[str, Any]:
        return await self._post("/auth/login", json={"username": username, "password": password})

    async def edge_token(self, access_token: str, site_id: str) -> str | None:
        """This site's edge token for the signed-in user, or None."""
        data = await self._post("/auth/edge-token", token=access_token,
                                params={"site_id": site_id})
        for item in data.get("tokens", []):
            if isinstance(item, dict) and item.get("site_id") == site_id:
                return str(item["token"])
        return None
