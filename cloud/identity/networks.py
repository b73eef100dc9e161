"""The console limited to configured networks (等保: 访问控制): its pages, and everything
the three administrators do, only from `CONSOLE_NETWORKS` (the client's address as the
request middleware sees it: behind a trusted proxy, X-Forwarded-For).

Business roles are not limited: consultants and brokers work from phones on any network.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from cloud.identity.permissions import ADMIN_ROLES
from cloud.settings import CloudSettings
from shared.browser import Networks

CONSOLE_PREFIX = "/console"


def admin_outside(settings: CloudSettings, roles: Iterable[str], ip: str | None) -> bool:
    """An administrator acting from outside the console's networks (when they are set)."""
    if not settings.console_networks or not ADMIN_ROLES.intersection(roles):
        return False
    return not Networks(settings.console_networks).contains(ip)


class ConsoleNetworkMiddleware:
    """The console's pages only to its networks; a plain 403 elsewhere."""

    def __init__(self, app: ASGIApp, networks: list[str]) -> None:
        self.app = app
        self.networks = Networks(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CONSOLE_PREFIX):
            client = Request(scope).client
            if not self.networks.contains(client.host if client else None):
                response = PlainTextResponse("控制台只能从单位允许的网络访问", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
