"""The refresh token lives in a cookie script cannot read (ADR 0019).

HttpOnly (no script reads it, so an XSS cannot carry it away), SameSite=Strict (no other
site's page makes the browser send it), Path = the refresh route (no other request
carries it), Secure whenever the request came over TLS. The login and refresh answers
carry the short-lived access token in their body only.

CSRF: the refresh route is the only one the cookie reaches, and every other route takes
a bearer token a cross-site page cannot attach. A forged refresh would at most rotate the
token, and SameSite=Strict keeps the browser from sending the cookie on one anyway; a
request the browser marks `Sec-Fetch-Site: cross-site` is refused as a second line.
"""

from __future__ import annotations

from fastapi import Request, Response

from cloud.identity.errors import SessionExpired
from cloud.settings import CloudSettings
from shared.browser import Networks, served_over_tls

COOKIE = "anchang_refresh"
PATH = "/api/v1/auth/refresh"


def attach(response: Response, request: Request, settings: CloudSettings, token: str) -> None:
    # A browser-session cookie (no Max-Age): closing the browser drops it; the server ends
    # the session anyway after 12 hours or 30 idle minutes.
    response.set_cookie(
        COOKIE, token, path=PATH, httponly=True, samesite="strict",
        secure=served_over_tls(request.scope, Networks(settings.trusted_proxies)),
    )


def clear(response: Response, request: Request, settings: CloudSettings) -> None:
    response.delete_cookie(
        COOKIE, path=PATH, httponly=True, samesite="strict",
        secure=served_over_tls(request.scope, Networks(settings.trusted_proxies)),
    )


def read(request: Request) -> str:
    """The presented refresh token; SessionExpired when there is none or the browser says
    the request comes from another site."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise SessionExpired()
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 200:
        raise SessionExpired()
    return token
