"""The broker's messages (消息) pushed to WeChat as template messages (模板消息) of the
公众号 they signed in with: an appeal decided, a referral voided, a task published. A
notification is written `pending` in the request's transaction; the job
`channel.wechat_push` sends it after the commit, so a rolled-back request never sends
and WeChat being slow never slows a request (ADR 0043).

A broker with no 公众号 identity, or no template set, is `skipped` (the H5 still lists
the message); a refusal about the person (not following, blocked) is `skipped` too;
WeChat being down leaves the rest of the batch for the next run, up to PUSH_TRIES."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlmodel import Session, col, select

from cloud.channel.appeal_models import Notification
from cloud.channel.models import Broker
from cloud.channel.signin.errors import WeChatFailed
from cloud.channel.signin.models import OPENID_CONTEXT, WeChatIdentity
from cloud.channel.signin.wechat import RECIPIENT_ERRORS, TOKEN_ERRORS, WeChatClient
from cloud.channel.signin.wechat_token import access_token
from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI, as_utc, utcnow

log = structlog.get_logger()

BATCH = 100
PUSH_TRIES = 5
THING_CHARS = 20  # WeChat's limit of a `thing` field


@dataclass
class Run:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    left: int = 0


def push_pending(session: Session, settings: CloudSettings) -> dict[str, Any]:
    rows = list(session.exec(
        select(Notification).where(Notification.push_state == "pending")
        .order_by(col(Notification.id)).limit(BATCH).with_for_update(skip_locked=True)).all())
    run = Run()
    client = WeChatClient(settings)
    if not rows:
        return vars(run)
    if client.web is None or not settings.wechat_template_id:
        for row in rows:
            _finish(row, "skipped")
        session.flush()
        return {**vars(run), "skipped": len(rows)}
    template = settings.wechat_template_id
    openids = _openids(session, settings, client.web.appid, {r.user_id for r in rows})
    token: str | None = None
    for i, row in enumerate(rows):
        openid = openids.get(row.user_id)
        if openid is None:
            _finish(row, "skipped")
            run.skipped += 1
            continue
        try:
            token = token or access_token(session, settings, client)
            token = _send(session, settings, client, token, row, openid, template)
        except WeChatFailed as exc:
            errcode = exc.extra.get("errcode")
            if errcode in RECIPIENT_ERRORS:
                _finish(row, "skipped")
                run.skipped += 1
                continue
            # WeChat down or refusing us: this row counts a try, the rest wait untouched.
            row.push_tries += 1
            if row.push_tries >= PUSH_TRIES:
                _finish(row, "failed")
                run.failed += 1
            run.left = len(rows) - i - 1
            log.warning("wechat_push_stopped", errcode=errcode, left=run.left)
            break
        _finish(row, "sent")
        run.sent += 1
    session.flush()
    return vars(run)


def _send(session: Session, settings: CloudSettings, client: WeChatClient, token: str,
          row: Notification, openid: str, template: str) -> str:
    """Sends; answers the token it used (refreshed once if WeChat refused the old one)."""
    data = {"thing1": _thing(row.title), "thing2": _thing(row.body),
            "time3": _time(row.created_at)}
    url = (settings.h5_public_url.rstrip("/") + "/#/messages") if settings.h5_public_url \
        else None
    try:
        client.send_template(token, openid=openid, template_id=template, data=data, url=url)
    except WeChatFailed as exc:
        if exc.extra.get("errcode") not in TOKEN_ERRORS:
            raise
        token = access_token(session, settings, client, refused=token)
        client.send_template(token, openid=openid, template_id=template, data=data, url=url)
    return token


def _openids(session: Session, settings: CloudSettings, appid: str,
             user_ids: set[int]) -> dict[int, str]:
    """Each user's openid in this 公众号, from their latest sign-in with it."""
    found = session.exec(
        select(Broker.user_id, WeChatIdentity.openid_enc)
        .join(WeChatIdentity, col(WeChatIdentity.broker_id) == col(Broker.id))
        .where(col(Broker.user_id).in_(user_ids), WeChatIdentity.app == "web",
               WeChatIdentity.appid == appid)
        .order_by(col(WeChatIdentity.last_login_at))).all()
    return {user_id: settings.cipher.decrypt(enc, context=OPENID_CONTEXT)
            for user_id, enc in found}


def _finish(row: Notification, state: str) -> None:
    row.push_state = state
    row.pushed_at = utcnow()


def _thing(text: str) -> str:
    return text if len(text) <= THING_CHARS else text[:THING_CHARS - 1] + "…"


def _time(at: datetime) -> str:
    local = as_utc(at).astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
