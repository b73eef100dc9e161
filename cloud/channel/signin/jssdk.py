"""The JS-SDK configuration of the broker H5 inside WeChat (wx.config): the page's URL
signed with the 公众号's jsapi_ticket, so the H5 may set what a shared page shows
(updateAppMessageShareData / updateTimelineShareData).

The signature is WeChat's documented one (JS-SDK 附录1): SHA-1 of
`jsapi_ticket=…&noncestr=…&timestamp=…&url=…` — the fields in ASCII order, raw values,
the URL without its fragment. Only pages of the H5 are signed: the URL must be under the
H5's address (`h5_public_url`, else this server's /h5/), so the cloud cannot be used to
sign another site's pages with the 公众号's identity.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session

from cloud.channel.signin.errors import PageUrlInvalid
from cloud.channel.signin.wechat import WeChatClient
from cloud.channel.signin.wechat_token import jsapi_ticket
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

# Where the H5 loads WeChat's JS-SDK (jweixin-1.6.0.js): the H5's pages allow scripts
# from there (cloud.main), the other apps do not.
JSSDK_ORIGIN = "https://res.wx.qq.com"
# What a shared page may set: the chat card and the 朋友圈 entry.
SHARE_APIS = ("updateAppMessageShareData", "updateTimelineShareData")


@dataclass(frozen=True)
class JsConfig:
    app_id: str
    timestamp: int
    nonce_str: str
    signature: str
    js_api_list: tuple[str, ...] = SHARE_APIS


def signature(*, ticket: str, noncestr: str, timestamp: int, url: str) -> str:
    signed = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(signed.encode("utf-8")).hexdigest()  # noqa: S324 (WeChat's algorithm)


def page_url(url: str, h5_url: str) -> str:
    """`url` without its fragment, if it is a page of the H5 at `h5_url`; else
    PageUrlInvalid. Scheme, host and port must be the H5's, the path under its path."""
    page, base = urlsplit(url.split("#", 1)[0]), urlsplit(h5_url)
    prefix = base.path if base.path.endswith("/") else base.path + "/"
    if (page.scheme, page.netloc.lower()) != (base.scheme, base.netloc.lower()) \
            or not (page.path + "/").startswith(prefix) or page.username or page.password:
        raise PageUrlInvalid()
    return url.split("#", 1)[0]


def config(session: Session, settings: CloudSettings, client: WeChatClient, *, url: str,
           h5_url: str) -> JsConfig:
    page = page_url(url, h5_url)
    ticket = jsapi_ticket(session, settings, client)
    noncestr = secrets.token_urlsafe(12)
    timestamp = int(utcnow().timestamp())
    return JsConfig(app_id=client.web_appid(), timestamp=timestamp, nonce_str=noncestr,
                    signature=signature(ticket=ticket, noncestr=noncestr,
                                        timestamp=timestamp, url=page))
