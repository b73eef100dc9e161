"""Request and response bodies of broker sign-in and invites."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cloud.identity.schemas import TokenOut
from shared.timeutil import UtcDateTime

_InviteCode = Field(None, min_length=4, max_length=16, pattern=r"^[A-Za-z0-9]+$",
                    description="邀请码：渠道公司的（成为该公司经纪人，待审核）或经纪人个人的"
                                "（成为个人推荐人，全民营销）；已注册的手机号不需要")
_Phone = Field(min_length=1, max_length=40, description="手机号")
_SmsCode = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$", description="6 位短信验证码")
_WxCode = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SmsSendIn(_In):
    phone: str = _Phone


class SmsSendOut(BaseModel):
    cooldown_seconds: int = Field(description="再次获取验证码前需等待的秒数")


class SmsLoginIn(_In):
    phone: str = _Phone
    code: str = _SmsCode
    invite_code: str | None = _InviteCode


class WeChatLoginIn(_In):
    code: str = _WxCode
    state: str = Field(min_length=1, max_length=1000)


class MiniLoginIn(_In):
    js_code: str = _WxCode
    invite_code: str | None = _InviteCode


class WeChatBindIn(_In):
    ticket: str = Field(min_length=1, max_length=2000, description="409 wechat_phone_required "
                                                                    "返回的绑定凭证")
    phone: str = _Phone
    sms_code: str = _SmsCode


class SignInOut(TokenOut):
    next: str | None = Field(None, description="发起授权时给的 next：登录后前往的页面")


class InviteeOut(BaseModel):
    display_name: str
    joined_at: UtcDateTime


class InviteOut(BaseModel):
    code: str = Field(description="我的邀请码")
    link: str = Field(description="邀请链接（海报二维码的内容）")
    invited_count: int
    invited: list[InviteeOut] = Field(description="通过我的邀请注册的人，新的在前")


class JsConfigIn(_In):
    url: str = Field(min_length=8, max_length=1000,
                     description="调用 JS-SDK 的 H5 页面完整地址（# 及其后部分不参与签名）")


class JsConfigOut(BaseModel):
    """wx.config 的参数（debug 由前端决定）。"""

    app_id: str = Field(description="公众号 appId")
    timestamp: int
    nonce_str: str
    signature: str = Field(description="SHA-1 签名（微信 JS-SDK 附录 1 的算法）")
    js_api_list: list[str]
