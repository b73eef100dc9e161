"""A broker's WeChat identities: one row per app (公众号 web authorisation, 小程序) the
broker signed in with. openid is per app; unionid, when the apps share an open-platform
account, is the same person across them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow

OPENID_CONTEXT = "channel_wechat_identity.openid"
UNIONID_CONTEXT = "channel_wechat_identity.unionid"


class WeChatIdentity(SQLModel, table=True):
    __tablename__ = "channel_wechat_identity"
    __table_args__ = (
        UniqueConstraint("appid", "openid_bidx", name="uq_channel_wechat_identity_openid"),
        CheckConstraint("app IN ('web', 'mini')", name="ck_channel_wechat_identity_app"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broker_id: int = Field(foreign_key="channel_broker.id", index=True)
    app: str = Field(max_length=8, description="web 公众号网页授权 / mini 小程序")
    appid: str = Field(max_length=64)
    openid_enc: str = Field(max_length=200, description="AES-GCM, context "
                            "channel_wechat_identity.openid")
    openid_bidx: str = Field(max_length=64)
    unionid_enc: str | None = Field(default=None, max_length=200)
    unionid_bidx: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_login_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


TOKEN_CONTEXT = "channel_wechat_token.token"
TICKET_CONTEXT = "channel_wechat_token.ticket"


class WeChatToken(SQLModel, table=True):
    """The 公众号's access token, shared by every API process and worker: WeChat allows
    2,000 fetches a day and each fetch replaces the previous token (wechat_token.py)."""

    __tablename__ = "channel_wechat_token"

    appid: str = Field(primary_key=True, max_length=64)
    token_enc: str = Field(max_length=800, description="AES-GCM, context "
                           "channel_wechat_token.token")
    expires_at: datetime = Field(sa_column=utc_column())
    refreshed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # The JS-SDK's jsapi_ticket, got with the token and cached the same way (ADR 0049).
    ticket_enc: str | None = Field(default=None, max_length=800, description="AES-GCM, "
                                   "context channel_wechat_token.ticket")
    ticket_expires_at: datetime | None = Field(default=None,
                                               sa_column=utc_column(nullable=True))
