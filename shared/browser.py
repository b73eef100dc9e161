"""Browser hardening both FastAPI apps install: security headers on every response, and
the operator-only pages (/metrics, the API docs) closed to anonymous callers in
production mode.

The web apps are built with no inline script (tests/shared/test_browser.py reads every
built index.html), so the policy can say `script-src 'self'` — plus, under one app's
path only, a named outside script (the broker H5 loads WeChat's JS-SDK from WeChat). Styles keep
'unsafe-inline': Element Plus and Vant position popups with style attributes, and a
style cannot run code.
"""

from __future__ import annotations

import hmac
import ipaddress
from base64 import b64decode
from binascii import Error as BinasciiError
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Mode = Literal["production", "demo"]


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().strip("[]")
        return [v.strip().strip("'\"") for v in value.split(",") if v.strip()]
    return value


def _addresses(value: list[str]) -> list[str]:
    for entry in value:
        # uvicorn would silently treat a typo as a host name that never matches.
        ipaddress.ip_network(entry, strict=False)
    return value


# A settings field written "10.0.0.1, 10.0.1.0/24" in the environment.
AddressList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list),
                        AfterValidator(_addresses)]


class HardeningSettings(BaseSettings):
    """The settings both services share here (each reads them with its own prefix)."""

    mode: Mode = Field(
        "production", description="'demo' (set by `anchang demo`) opens /metrics and the API "
        "docs to anyone (and on the cloud runs scheduled jobs in-process); production needs "
        "ops_token for them")
    ops_token: SecretStr | None = Field(
        None, description="bearer token (or Basic password) for /metrics and the API docs in "
        "production; unset: those pages are closed")
    trusted_proxies: AddressList = Field(
        default_factory=list, description="addresses / CIDRs of the reverse proxies whose "
        "X-Forwarded-For (the client's address: logs, audit, login limits) and "
        "X-Forwarded-Proto (HSTS, and the Secure refresh cookie on the cloud, when TLS ends "
        "there) are believed; from anyone else they are ignored")
    access_log: bool = Field(
        True, description="one JSON line per request: method, route template, status, "
        "milliseconds, client address — never the raw path or query string (ids, a "
        "kiosk's ?phone=)")


HSTS = "max-age=31536000; includeSubDomains"
# Operators' pages: Prometheus scrapes with `authorization: {credentials: <token>}`, a
# browser gets the Basic prompt (any user name, the token as password).
OPS_PATHS = ("/metrics", "/api/v1/docs", "/api/v1/docs-assets", "/api/v1/openapi.json")


def content_security_policy(connect_src: Iterable[str] = (),
                            script_src: Iterable[str] = ()) -> str:
    connect = " ".join(["'self'", *sorted(set(connect_src))])
    scripts = " ".join(["'self'", *sorted(set(script_src))])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src {connect}",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of an absolute URL (the CSP source of another server)."""
    if not url or "://" not in url:
        return None
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


class Networks:
    """A list of addresses / CIDRs (trusted proxies, the console's networks)."""

    def __init__(self, networks: Sequence[str]) -> None:
        self._networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def contains(self, host: str | None) -> bool:
        if not host or not self._networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def served_over_tls(scope: Scope, proxies: Networks) -> bool:
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    # X-Forwarded-Proto is believed from the trusted proxies only (anyone could send it).
    if not proxies.contains(client[0] if client else None):
        return False
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


@dataclass(frozen=True)
class BrowserPolicy:
    mode: Mode
    ops_token: str | None
    trusted_proxies: Networks
    csp: str
    # (path prefix, policy): the first whose prefix the path is or is under, else `csp`.
    path_csp: tuple[tuple[str, str], ...] = ()

    def csp_for(self, path: str) -> str:
        for prefix, csp in self.path_csp:
            if path == prefix or path.startswith(prefix + "/"):
                return csp
        return self.csp


_RawHeaders = tuple[list[tuple[bytes, bytes]], frozenset[bytes]]


class SecurityHeadersMiddleware:
    """Adds the headers to every response (API, static files, errors) and guards the
    operators' pages. Pure ASGI so it also covers streamed file responses."""

    def __init__(self, app: ASGIApp, policy: BrowserPolicy) -> None:
        self.app = app
        self.policy = policy
        self._raw: dict[tuple[str, bool], _RawHeaders] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = served_over_tls(scope, self.policy.trusted_proxies)
        if self._ops_page_refused(scope):
            refusal = PlainTextResponse(
                "需要运维令牌", status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="anchang-ops", charset="UTF-8"'})
            await refusal(scope, receive, self._with_headers(send, tls, scope["path"]))
            return
        await self.app(scope, receive, self._with_headers(send, tls, scope["path"]))

    def _with_headers(self, send: Send, tls: bool, path: str) -> Send:
        raw, names = self._raw_headers(self.policy.csp_for(path), tls)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Ours replace any the response set: one pass, not a scan per header
                # (MutableHeaders), which showed in a cheap request's profile (issue #24).
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() not in names),
                    *raw]
            await send(message)

        return send_with_headers

    def _raw_headers(self, csp: str, tls: bool) -> _RawHeaders:
        """The headers as ASGI sends them, and their names; made once per policy and
        scheme."""
        made = self._raw.get((csp, tls))
        if made is None:
            headers = {
                "content-security-policy": csp, "x-frame-options": "DENY",
                "x-content-type-options": "nosniff",
                "referrer-policy": "strict-origin-when-cross-origin",
                "cross-origin-opener-policy": "same-origin",
                **({"strict-transport-security": HSTS} if tls else {})}
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            made = self._raw[(csp, tls)] = (raw, frozenset(k for k, _ in raw))
        return made

    def _ops_page_refused(self, scope: Scope) -> bool:
        if self.policy.mode != "production":
            return False
        path: str = scope["path"]
        if not any(path == p or path.startswith(p + "/") for p in OPS_PATHS):
            return False
        token = self.policy.ops_token
        if not token:
            return True  # no token configured: the pages are closed
        return not _presented_token_matches(Headers(scope=scope).get("authorization"), token)


def _presented_token_matches(authorization: str | None, token: str) -> bool:
    if not authorization or " " not in authorization:
        return False
    scheme, value = authorization.split(" ", 1)
    presented = value.strip()
    if scheme.lower() == "basic":
        try:
            presented = b64decode(presented, validate=True).decode("utf-8").partition(":")[2]
        except (BinasciiError, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.encode(), token.encode())


def install_browser_hardening(
    app: FastAPI, settings: HardeningSettings, *, connect_src: Iterable[str] = (),
    scripts_by_path: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Install as the outermost middleware (call after every other add_middleware).
    `scripts_by_path`: {path prefix: script origins} allowed under that path only."""
    token = settings.ops_token.get_secret_value() if settings.ops_token else None
    connect = list(connect_src)
    policy = BrowserPolicy(mode=settings.mode, ops_token=token,
                           trusted_proxies=Networks(settings.trusted_proxies),
                           csp=content_security_policy(connect),
                           path_csp=tuple(
                               (prefix.rstrip("/"), content_security_policy(connect, scripts))
                               for prefix, scripts in (scripts_by_path or {}).items()))
    app.add_middleware(SecurityHeadersMiddleware, policy=policy)
