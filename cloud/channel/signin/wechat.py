"""WeChat's sign-in endpoints behind one adapter: the web authorisation (网页授权, OAuth2
code flow of a 公众号) and the mini-program's code-to-session.

Only what identifies the person is kept: openid, unionid, the nickname. The OAuth access
token and the mini-program's session_key are used once here and never stored or logged.
WeChat answers errors with HTTP 200 and {errcode, errmsg}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog

from cloud.channel.signin.errors import WeChatCodeInvalid, WeChatFailed, WeChatNotConfigured
from cloud.settings import CloudSettings

log = structlog.get_logger()

# A code that is wrong, used or expired: the person must authorise again. Anything else
# (a bad secret, WeChat busy: -1, 45011) is ours or theirs, not the user's.
CODE_ERRORS = frozenset({40029, 40163, 41008, 42003})


@dataclass(frozen=True)
class WeChatUser:
    app: str  # "web" or "mini"
    appid: str
    openid: str
    unionid: str | None
    nickname: str | None = None


@dataclass(frozen=True)
class _App:
    appid: str
    secret: str


class WeChatClient:
    def __init__(self, settings: CloudSettings) -> None:
        self.open_base = settings.wechat_open_base.rstrip("/")
        self.api_base = settings.wechat_api_base.rstrip("/")
        self.timeout = settings.wechat_timeout_seconds
        self.web = _app(settings.wechat_appid, settings.wechat_secret)
        self.mini = _app(settings.wechat_mini_appid, settings.wechat_mini_secret)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        app = _need(self.web)
        query = urlencode({"appid": app.appid, "redirect_uri": redirect_uri,
                           "response_type": "code", "scope": "snsapi_userinfo",
                           "state": state})
        return f"{self.open_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    def web_user(self, code: str) -> WeChatUser:
        """Exchange a web authorisation code, then read the nickname with its token."""
        app = _need(self.web)
        token = self._get("/sns/oauth2/access_token", {
            "appid": app.appid, "secret": app.secret, "code": code,
            "grant_type": "authorization_code"})
        openid = _text(token, "openid")
        info = self._get("/sns/userinfo", {"access_token": _text(token, "access_token"),
                                           "openid": openid, "lang": "zh_CN"})
        nickname = info.get("nickname")
        return WeChatUser(app="web", appid=app.appid, openid=openid,
                          unionid=_optional(token.get("unionid") or info.get("unionid")),
                          nickname=nickname[:64] if isinstance(nickname, str) else None)

    def mini_user(self, js_code: str) -> WeChatUser:
        app = _need(self.mini)
        found = self._get("/sns/jscode2session", {
            "appid": app.appid, "secret": app.secret, "js_code": js_code,
            "grant_type": "authorization_code"})
        return WeChatUser(app="mini", appid=app.appid, openid=_text(found, "openid"),
                          unionid=_optional(found.get("unionid")))

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = httpx.get(self.api_base + path, params=params, timeout=self.timeout)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # The URL carries the secret: log the path only.
            log.warning("wechat_unreachable", path=path, error=type(exc).__name__)
            raise WeChatFailed() from exc
        if response.status_code != 200 or not isinstance(body, dict):
            log.warning("wechat_bad_answer", path=path, status=response.status_code)
            raise WeChatFailed()
        errcode = body.get("errcode")
        if errcode not in (None, 0):
            log.info("wechat_refused", path=path, errcode=errcode,
                     errmsg=str(body.get("errmsg", ""))[:120])
            if errcode in CODE_ERRORS:
                raise WeChatCodeInvalid(extra={"errcode": errcode})
            raise WeChatFailed(extra={"errcode": errcode})
        return body


def _app(appid: str | None, secret: Any) -> _App | None:
    if not appid or secret is None:
        return None
    return _App(appid, secret.get_secret_value())


def _need(app: _App | None) -> _App:
    if app is None:
        raise WeChatNotConfigured()
    return app


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 128:
        log.warning("wechat_bad_answer", missing=key)
        raise WeChatFailed()
    return value


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
