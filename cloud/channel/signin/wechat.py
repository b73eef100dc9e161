"""WeChat behind one adapter: the web authorisation (网页授权, OAuth2 code flow of a 公众号),
the mini-program's code-to-session, and the 公众号's own calls — its access token
(`cgi-bin/token`; cached by wechat_token.py) and template messages (模板消息).

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
# The access token is invalid, replaced or expired: refresh it and try once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# About the recipient, not us: not following the 公众号 (43004), refusing its messages
# (43101), an openid of another app (40003). Retrying cannot help.
RECIPIENT_ERRORS = frozenset({40003, 43004, 43101})


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

    def web_appid(self) -> str:
        return _need(self.web).appid

    def fetch_access_token(self) -> tuple[str, int]:
        """A new access token of the 公众号 and its lifetime in seconds. Each call replaces
        the previous token (WeChat keeps the old one 5 more minutes): callers go through
        wechat_token.access_token, which asks once for everyone."""
        app = _need(self.web)
        body = self._get("/cgi-bin/token", {"grant_type": "client_credential",
                                            "appid": app.appid, "secret": app.secret})
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int) or lifetime <= 0:
            log.warning("wechat_bad_answer", missing="expires_in")
            raise WeChatFailed()
        return _long_text(body, "access_token"), lifetime

    def fetch_jsapi_ticket(self, token: str) -> tuple[str, int]:
        """The JS-SDK's jsapi_ticket and its lifetime in seconds (ticket/getticket, limited
        like the token: wechat_token.jsapi_ticket asks once for everyone)."""
        body = self._get("/cgi-bin/ticket/getticket", {"access_token": token, "type": "jsapi"})
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int) or lifetime <= 0:
            log.warning("wechat_bad_answer", missing="expires_in")
            raise WeChatFailed()
        return _long_text(body, "ticket"), lifetime

    def send_template(self, token: str, *, openid: str, template_id: str,
                      data: dict[str, str], url: str | None) -> int:
        """A template message (模板消息) to one follower; WeChat's msgid."""
        message: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                   "data": {k: {"value": v} for k, v in data.items()}}
        if url:
            message["url"] = url
        body = self._call("POST", "/cgi-bin/message/template/send",
                          {"access_token": token}, message)
        msgid = body.get("msgid")
        return msgid if isinstance(msgid, int) else 0

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return self._call("GET", path, params, None)

    def _call(self, method: str, path: str, params: dict[str, str],
              payload: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = httpx.request(method, self.api_base + path, params=params,
                                     json=payload, timeout=self.timeout)
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


def _long_text(body: dict[str, Any], key: str) -> str:
    # An access token is 512 characters at most (WeChat reserves that much storage).
    value = body.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 512:
        log.warning("wechat_bad_answer", missing=key)
        raise WeChatFailed()
    return value


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
