"""Errors of broker sign-in: stable codes, Chinese messages (problem+json)."""

from __future__ import annotations

from typing import Any

from cloud.identity.errors import RecordedRejection
from shared.errors import Conflict, Forbidden, TooManyRequests, Unavailable, ValidationFailed


class WeChatNotConfigured(Unavailable):
    code = "wechat_not_configured"
    title = "微信登录暂未开通，请使用手机验证码登录"


class WeChatFailed(Unavailable):
    """WeChat's API did not answer, or answered something that is not its protocol."""

    code = "wechat_unavailable"
    title = "微信服务暂不可用，请稍后再试"


class PageUrlInvalid(ValidationFailed):
    code = "wechat_page_url_invalid"
    title = "只能为经纪人端的页面生成微信分享配置"


class WeChatCodeInvalid(ValidationFailed):
    code = "wechat_code_invalid"
    title = "微信授权已失效，请重新授权"


class StateInvalid(ValidationFailed):
    code = "wechat_state_invalid"
    title = "登录链接已失效或已使用，请重新发起微信授权"


class TicketInvalid(ValidationFailed):
    code = "wechat_ticket_invalid"
    title = "绑定凭证已失效或已使用，请重新微信登录"


class WeChatPhoneRequired(Conflict):
    code = "wechat_phone_required"
    title = "首次微信登录，请绑定手机号"

    def __init__(self, ticket: str, expires_in: int) -> None:
        extra: dict[str, Any] = {"ticket": ticket, "expires_in": expires_in}
        super().__init__(extra=extra)


class SmsNotConfigured(Unavailable):
    code = "sms_not_configured"
    title = "短信服务暂未开通，请使用其他方式登录"


class SmsFailed(Unavailable):
    code = "sms_unavailable"
    title = "短信发送失败，请稍后再试"


class SmsRefused(ValidationFailed):
    """The provider refused this number (not a mobile, blacklisted, its own limit)."""

    code = "sms_refused"
    title = "该号码暂时无法接收验证码"


class SmsCooldown(TooManyRequests):
    code = "sms_cooldown"
    title = "验证码发送过于频繁，请稍后再试"


class SmsCodeInvalid(RecordedRejection):
    status = 401
    code = "sms_code_invalid"
    title = "验证码错误或已过期，请重新获取"


class InviteRequired(Forbidden):
    code = "broker_invite_required"
    title = "该手机号尚未注册，请通过邀请链接或邀请码注册"


class InviteInvalid(ValidationFailed):
    code = "invite_code_invalid"
    title = "邀请码无效或邀请人已冻结"


class PhoneAmbiguous(Conflict):
    code = "broker_phone_ambiguous"
    title = "该手机号关联了多个账号，请使用账号密码登录"


class NoInviteCode(Forbidden):
    code = "broker_not_registered"
    title = "只有经纪人和个人推荐人有邀请码"
