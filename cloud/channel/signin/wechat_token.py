"""The 公众号's access token and its JS-SDK jsapi_ticket: cached in the database for every
process, refreshed five minutes before WeChat's expiry, by one refresher at a time (ADR
0043; the ticket, ADR 0049).

Each `cgi-bin/token` call replaces the token, so two processes refreshing together would
invalidate each other's; a transaction-scoped advisory lock lets one fetch while the
others wait and then read its token. The refresh runs in its own short transaction so
the lock is released (and the token visible) at once, whatever the caller's transaction
does next."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from cloud.channel.history import lock
from cloud.channel.signin.errors import WeChatFailed
from cloud.channel.signin.models import TICKET_CONTEXT, TOKEN_CONTEXT, WeChatToken
from cloud.channel.signin.wechat import TOKEN_ERRORS, WeChatClient
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

REFRESH_MARGIN = timedelta(minutes=5)


def access_token(session: Session, settings: CloudSettings, client: WeChatClient, *,
                 refused: str | None = None) -> str:
    """A token valid for at least REFRESH_MARGIN more. `refused`: the token WeChat just
    refused (40001, 42001) — refreshed even if not yet due, unless another process
    already replaced it."""
    appid = client.web_appid()
    with Session(session.get_bind(), expire_on_commit=False) as own:
        token = _usable(own, settings, appid, refused)
        if token is not None:
            return token
        lock(own, f"wechat_token:{appid}")
        token = _usable(own, settings, appid, refused)  # a refresher may have just finished
        if token is None:
            token, lifetime = client.fetch_access_token()
            now = utcnow()
            row = own.get(WeChatToken, appid) or WeChatToken(
                appid=appid, token_enc="", expires_at=now)
            row.token_enc = settings.cipher.encrypt(token, context=TOKEN_CONTEXT)
            row.expires_at = now + timedelta(seconds=lifetime)
            row.refreshed_at = now
            own.add(row)
        own.commit()
        return token


def jsapi_ticket(session: Session, settings: CloudSettings, client: WeChatClient) -> str:
    """A jsapi_ticket valid for at least REFRESH_MARGIN more. Fetching one needs the
    token; a token WeChat refuses is refreshed (as above) and the fetch tried once more."""
    appid = client.web_appid()
    with Session(session.get_bind(), expire_on_commit=False) as own:
        ticket = _usable_ticket(own, settings, appid)
        if ticket is not None:
            return ticket
        lock(own, f"wechat_ticket:{appid}")
        ticket = _usable_ticket(own, settings, appid)
        if ticket is None:
            token = access_token(session, settings, client)
            try:
                ticket, lifetime = client.fetch_jsapi_ticket(token)
            except WeChatFailed as exc:
                if exc.extra.get("errcode") not in TOKEN_ERRORS:
                    raise
                ticket, lifetime = client.fetch_jsapi_ticket(
                    access_token(session, settings, client, refused=token))
            own.expire_all()
            row = own.get(WeChatToken, appid)
            assert row is not None  # written by access_token above
            row.ticket_enc = settings.cipher.encrypt(ticket, context=TICKET_CONTEXT)
            row.ticket_expires_at = utcnow() + timedelta(seconds=lifetime)
            own.add(row)
        own.commit()
        return ticket


def _usable_ticket(session: Session, settings: CloudSettings, appid: str) -> str | None:
    session.expire_all()
    row = session.get(WeChatToken, appid)
    if row is None or row.ticket_enc is None or row.ticket_expires_at is None \
            or not _fresh(row.ticket_expires_at, utcnow()):
        return None
    return settings.cipher.decrypt(row.ticket_enc, context=TICKET_CONTEXT)


def _usable(session: Session, settings: CloudSettings, appid: str,
            refused: str | None) -> str | None:
    session.expire_all()
    row = session.get(WeChatToken, appid)
    if row is None or not _fresh(row.expires_at, utcnow()):
        return None
    token = settings.cipher.decrypt(row.token_enc, context=TOKEN_CONTEXT)
    return None if token == refused else token


def _fresh(expires_at: datetime, now: datetime) -> bool:
    return expires_at - REFRESH_MARGIN > now
