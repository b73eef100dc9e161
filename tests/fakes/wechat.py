"""A fake of WeChat's endpoints with their real paths, parameters and answers: the web
authorisation page (网页授权), /sns/oauth2/access_token, /sns/userinfo, the mini-program's
/sns/jscode2session, and the 公众号's /cgi-bin/token (each call replaces the app's token;
the old one lives GRACE_SECONDS more), /cgi-bin/ticket/getticket (the JS-SDK's
jsapi_ticket, for a valid token and type=jsapi) and /cgi-bin/message/template/send (to
followers only; `thing` values at most 20 characters). Errors are WeChat's: HTTP 200 with
errcode/errmsg.

A test plays the person: `fake.person = Person(...)` is who consents on the page (or
`fake.code_for(...)` issues a code directly, as wx.login would in a mini-program).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

CODE_SECONDS = 300  # WeChat: a code lives 5 minutes and is used once
GRACE_SECONDS = 300  # WeChat: a replaced access token still works 5 minutes


@dataclass(frozen=True)
class Person:
    openid: str  # per app in real WeChat; the fake takes it as given
    unionid: str | None = None
    nickname: str = "微信用户"


@dataclass
class _Code:
    appid: str
    person: Person
    issued: float
    used: bool = False


@dataclass
class FakeWeChat:
    apps: dict[str, str]  # appid -> secret
    person: Person | None = None
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: dict[str, Person] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    app_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # -> appid, until
    token_seconds: int = 7200
    followers: set[str] = field(default_factory=set)  # openids following the 公众号
    templates: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False  # answers -1 (system busy) to the 公众号's calls
    tickets: dict[str, str] = field(default_factory=dict)  # jsapi_ticket -> appid

    def expire_tokens(self) -> None:
        self.app_tokens = {t: (a, 0.0) for t, (a, _) in self.app_tokens.items()}

    def code_for(self, appid: str, person: Person, *, age: float = 0) -> str:
        code = "0" + secrets.token_hex(15)
        self.codes[code] = _Code(appid, person, time.monotonic() - age)
        return code

    def app(self) -> FastAPI:
        api = FastAPI()

        def err(errcode: int, errmsg: str) -> JSONResponse:
            rid = secrets.token_hex(4)
            return JSONResponse({"errcode": errcode, "errmsg": f"{errmsg} rid: {rid}"})

        def check_app(appid: str, secret: str) -> JSONResponse | None:
            if appid not in self.apps:
                return err(40013, "invalid appid")
            if self.apps[appid] != secret:
                return err(40125, "invalid appsecret")
            return None

        def take_code(appid: str, code: str) -> _Code | JSONResponse:
            found = self.codes.get(code)
            if found is None or found.appid != appid:
                return err(40029, "invalid code")
            if found.used:
                return err(40163, "code been used")
            if time.monotonic() - found.issued > CODE_SECONDS:
                return err(40029, "invalid code")  # WeChat answers an old code so too
            found.used = True
            return found

        @api.get("/connect/oauth2/authorize")
        def authorize(appid: str = "", redirect_uri: str = "", response_type: str = "",
                      scope: str = "", state: str = "") -> Any:
            self.calls.append("authorize")
            if appid not in self.apps:
                return err(40013, "invalid appid")
            if response_type != "code" or scope not in ("snsapi_base", "snsapi_userinfo"):
                return err(10003, "redirect_uri domain mismatch or bad scope")
            if not redirect_uri.startswith(("http://", "https://")):
                return err(10003, "redirect_uri domain mismatch")
            if not re.fullmatch(r"[A-Za-z0-9]{0,128}", state):  # WeChat's documented limit
                return err(10003, "state must be a-zA-Z0-9, at most 128 bytes")
            if self.person is None:
                return JSONResponse({"message": "the person declined"}, status_code=403)
            code = self.code_for(appid, self.person)
            sep = "&" if "?" in redirect_uri else "?"
            query = urlencode({"code": code, "state": state})
            return RedirectResponse(f"{redirect_uri}{sep}{query}", status_code=302)

        @api.get("/sns/oauth2/access_token")
        def access_token(appid: str = "", secret: str = "", code: str = "",
                         grant_type: str = "") -> Any:
            self.calls.append("access_token")
            if grant_type != "authorization_code":
                return err(40002, "invalid grant_type")
            if (refused := check_app(appid, secret)) is not None:
                return refused
            found = take_code(appid, code)
            if isinstance(found, JSONResponse):
                return found
            token = secrets.token_urlsafe(32)
            self.tokens[token] = found.person
            body: dict[str, Any] = {"access_token": token, "expires_in": 7200,
                                    "refresh_token": secrets.token_urlsafe(32),
                                    "openid": found.person.openid, "scope": "snsapi_userinfo",
                                    "is_snapshotuser": 0}
            if found.person.unionid:
                body["unionid"] = found.person.unionid
            return body

        @api.get("/sns/userinfo")
        def userinfo(access_token: str = "", openid: str = "",
                     lang: str = Query("zh_CN")) -> Any:
            self.calls.append("userinfo")
            person = self.tokens.get(access_token)
            if person is None:
                return err(40001, "invalid credential, access_token is invalid or not latest")
            if person.openid != openid:
                return err(40003, "invalid openid")
            body: dict[str, Any] = {"openid": openid, "nickname": person.nickname, "sex": 0,
                                    "province": "", "city": "", "country": "",
                                    "headimgurl": "", "privilege": []}
            if person.unionid:
                body["unionid"] = person.unionid
            return body

        @api.get("/sns/jscode2session")
        def jscode2session(appid: str = "", secret: str = "", js_code: str = "",
                           grant_type: str = "") -> Any:
            self.calls.append("jscode2session")
            if grant_type != "authorization_code":
                return err(40002, "invalid grant_type")
            if (refused := check_app(appid, secret)) is not None:
                return refused
            found = take_code(appid, js_code)
            if isinstance(found, JSONResponse):
                return found
            body = {"openid": found.person.openid,
                    "session_key": secrets.token_urlsafe(16)}
            if found.person.unionid:
                body["unionid"] = found.person.unionid
            return body

        @api.get("/cgi-bin/token")
        def cgi_token(grant_type: str = "", appid: str = "", secret: str = "") -> Any:
            self.calls.append("token")
            if self.down:
                return err(-1, "system error")
            if grant_type != "client_credential":
                return err(40002, "invalid grant_type")
            if (refused := check_app(appid, secret)) is not None:
                return refused
            now = time.monotonic()
            for old, (owner, until) in list(self.app_tokens.items()):
                if owner == appid:
                    self.app_tokens[old] = (owner, min(until, now + GRACE_SECONDS))
            token = secrets.token_urlsafe(96)
            self.app_tokens[token] = (appid, now + self.token_seconds)
            return {"access_token": token, "expires_in": self.token_seconds}

        def token_refused(access_token: str) -> JSONResponse | None:
            held = self.app_tokens.get(access_token)
            if held is None:
                return err(40001, "invalid credential, access_token is invalid or not latest")
            if held[1] < time.monotonic():
                return err(42001, "access_token expired")
            return None

        @api.get("/cgi-bin/ticket/getticket")
        def getticket(access_token: str = "", type: str = "") -> Any:
            self.calls.append("ticket")
            if self.down:
                return err(-1, "system error")
            if (refused := token_refused(access_token)) is not None:
                return refused
            if type != "jsapi":
                return err(40097, "invalid args")
            ticket = secrets.token_urlsafe(64)
            self.tickets[ticket] = self.app_tokens[access_token][0]
            return {"errcode": 0, "errmsg": "ok", "ticket": ticket,
                    "expires_in": self.token_seconds}

        @api.post("/cgi-bin/message/template/send")
        async def template_send(request: Request, access_token: str = "") -> Any:
            self.calls.append("template_send")
            if self.down:
                return err(-1, "system error")
            if (refused := token_refused(access_token)) is not None:
                return refused
            try:
                body = await request.json()
            except ValueError:
                return err(47001, "data format error")
            if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
                return err(47001, "data format error")
            if body.get("template_id") not in self.templates:
                return err(40037, "invalid template_id")
            if body.get("touser") not in self.followers:
                return err(43004, "require subscribe")
            for key, item in body["data"].items():
                value = item.get("value") if isinstance(item, dict) else None
                if not isinstance(value, str) or (key.startswith("thing") and len(value) > 20):
                    return err(47003, f"argument invalid! data.{key}.value invalid")
            self.messages.append(body)
            return {"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**12)}

        return api
