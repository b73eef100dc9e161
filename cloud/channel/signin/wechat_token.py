"""The 公众号's access token: cached in the database for every process, refreshed five
minutes before WeChat's expiry, by one refresher at a time (ADR 0043).

Each `cgi-bin/token` call replaces the token, so two processes refreshing together would
invalidate each other's; a transaction-scoped advisory lock lets one fetch while the
others wait and then read its token. The refresh runs in its own short transaction so
the lock is released (and the token visible) at once, whatever the caller's transaction
does next."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from cloud.channel.history import lock
from cloud.channel.signin.models import TOKEN_CONTEXT, WeChatToken
from cloud.channel.signin.wechat import WeChatClient
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
