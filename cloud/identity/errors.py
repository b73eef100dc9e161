"""Identity errors. Login answers never say whether the name or the password was wrong."""

from __future__ import annotations

import math

from shared.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)


class RecordedRejection(AppError):
    """Raised after the service wrote the record of the rejection (failure counter, audit
    row, revoked session). The route commits those writes before the error answers, since
    the request's session would otherwise roll them back with everything else."""


class InvalidCredentials(RecordedRejection):
    status = 401
    code = "invalid_credentials"
    title = "用户名或密码错误"


class AccountLocked(RecordedRejection):
    """Too many failures for this name from this source (or from unknown sources). Given
    alike for names that exist and names that do not."""

    status = 429
    code = "account_locked"
    title = "账号已锁定，请稍后再试"

    def __init__(self, seconds: int) -> None:
        minutes = math.ceil(seconds / 60)
        super().__init__(
            f"连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试",
            extra={"retry_after_minutes": minutes}, retry_after=seconds,
        )


class LoginRateLimited(TooManyRequests):
    code = "login_rate_limited"
    title = "登录尝试过于频繁，请稍后再试"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)


class NetworkNotAllowed(RecordedRejection):
    """An administrator outside the console's networks: a refused login is audited by
    the login, a token used from outside by the request's dependency (which needs to
    know whose token it was)."""

    status = 403
    code = "network_not_allowed"
    title = "管理员账号只能从单位允许的网络登录和操作，请在公司内网或 VPN 中使用控制台"

    def __init__(self, *, user_id: int | None = None, username: str = "") -> None:
        super().__init__()
        self.user_id, self.username = user_id, username


class AccountDisabled(RecordedRejection):
    status = 401
    code = "account_disabled"
    title = "账号已停用，请联系系统管理员"


class SessionExpired(RecordedRejection):
    status = 401
    code = "session_expired"
    title = "登录已超时，请重新登录"


class InvalidOldPassword(RecordedRejection):
    status = 400
    code = "invalid_old_password"
    title = "原密码不正确"


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"
    title = "请先修改密码后再继续操作"


class NotAuthenticated(Unauthorized):
    """Missing, malformed, expired or revoked access token: the client refreshes or logs in."""


class WeakPassword(ValidationFailed):
    code = "weak_password"
    title = "密码不符合安全要求"


class PasswordReused(ValidationFailed):
    code = "password_reused"
    title = "新密码不能与最近使用过的密码相同"


class InvalidUsername(ValidationFailed):
    code = "invalid_username"
    title = "用户名只能包含小写字母、数字和 _ . @ -，长度 3–64 位，且以字母或数字开头"


class UsernameTaken(Conflict):
    code = "username_taken"
    title = "用户名已存在"


class UnknownRole(ValidationFailed):
    code = "unknown_role"
    title = "角色不存在"


class RoleConflict(ValidationFailed):
    code = "role_conflict"
    title = "审计管理员不能同时担任系统管理员或安全管理员"


class UnknownSite(ValidationFailed):
    code = "unknown_site"
    title = "案场不存在"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "用户不存在"


class SelfChangeRefused(Forbidden):
    code = "self_change_refused"
    title = "不能修改自己的角色、数据范围或停用自己的账号"


class AdminAccountProtected(Forbidden):
    code = "admin_account_protected"
    title = "管理员账号只能由安全管理员停用、启用或修改"


class AdminPasswordResetRefused(Forbidden):
    code = "admin_password_reset_refused"
    title = ("管理员账号的密码不能在控制台重置（重置者会知道新密码），"
             "请由运维人员在服务器上执行 anchang admin reset-password")


class AdminPersonalDataNeedsGrant(ValidationFailed):
    code = "admin_personal_data_needs_grant"
    title = "管理员账号不能兼任可查看个人信息的业务角色，除非安全管理员明确授权"


class AdminRoleNeedsOwnPassword(Conflict):
    code = "admin_role_needs_own_password"
    title = "该账号仍在使用他人设置的初始密码，须先由本人修改密码后才能授予管理员角色"


class NoSiteScope(Forbidden):
    code = "no_site_scope"
    title = "您的账号没有分配到该案场（或任何已接入的案场），不能登录案场设备"
