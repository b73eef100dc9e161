"""Request and response bodies of the identity API. Inputs refuse unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cloud.identity.permissions import ROLE_NAMES, ROLE_PERMISSIONS
from cloud.identity.principal import Principal
from cloud.identity.security import PASSWORD_MAX_LENGTH
from cloud.identity.service import IssuedTokens, UserPage, UserView
from shared.timeutil import UtcDateTime

_Password = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=64, description="登录名")
    password: str = _Password


class PasswordChangeIn(_In):
    old_password: str = _Password
    new_password: str = _Password


class UserCreateIn(_In):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=64)
    password: str | None = Field(
        None, max_length=PASSWORD_MAX_LENGTH, description="初始密码；不填则由系统生成"
    )
    roles: list[str] = Field(default_factory=list, max_length=20,
                             description="需要角色分配权限（安全管理员）")
    site_ids: list[str] = Field(default_factory=list, max_length=500)
    scope_all: bool = False


class UserUpdateIn(_In):
    display_name: str | None = Field(None, min_length=1, max_length=64)
    is_active: bool | None = None


class PasswordResetIn(_In):
    password: str | None = Field(
        None, max_length=PASSWORD_MAX_LENGTH, description="新的初始密码；不填则由系统生成"
    )


class RolesIn(_In):
    roles: list[str] = Field(max_length=20)
    personal_data_grant: bool = Field(
        False, description="安全管理员明确授权管理员账号兼任可查看个人信息的业务角色（记入审计）"
    )


class ScopesIn(_In):
    site_ids: list[str] = Field(default_factory=list, max_length=500)
    scope_all: bool = False


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str] = Field(description="权限码，前端据此生成菜单与按钮")
    scope_all: bool
    site_ids: list[str] = Field(description="可见案场；scope_all 为真时为空")
    must_change_password: bool

    @classmethod
    def of(cls, principal: Principal, *, must_change_password: bool) -> MeOut:
        return cls(
            id=principal.user_id,
            username=principal.username,
            display_name=principal.display_name,
            roles=sorted(principal.roles),
            permissions=sorted(principal.permissions),
            scope_all=principal.site_ids is None,
            site_ids=sorted(principal.site_ids or ()),
            must_change_password=must_change_password,
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="access_token 有效秒数")
    must_change_password: bool
    user: MeOut

    @classmethod
    def of(cls, issued: IssuedTokens) -> TokenOut:
        return cls(
            access_token=issued.access_token,
            expires_in=issued.expires_in,
            must_change_password=issued.must_change_password,
            user=MeOut.of(issued.principal, must_change_password=issued.must_change_password),
        )


class EdgeTokenOut(BaseModel):
    site_id: str
    token: str = Field(description="案场设备令牌（HS256，案场密钥签名，12 小时有效）")
    expires_at: UtcDateTime


class EdgeTokensOut(BaseModel):
    tokens: list[EdgeTokenOut]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    is_active: bool
    roles: list[str]
    scope_all: bool
    site_ids: list[str]
    must_change_password: bool
    last_login_at: UtcDateTime | None
    created_at: UtcDateTime

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        user = view.user
        assert user.id is not None
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            is_active=user.is_active,
            roles=sorted(view.roles),
            scope_all=user.scope_all,
            site_ids=sorted(view.site_ids),
            must_change_password=user.must_change_password,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )


class UserPageOut(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多")

    @classmethod
    def of(cls, page: UserPage) -> UserPageOut:
        return cls(
            items=[UserOut.of(v) for v in page.items],
            next_cursor=str(page.next_cursor) if page.next_cursor is not None else None,
        )


class UserCreatedOut(BaseModel):
    user: UserOut
    initial_password: str | None = Field(
        description="系统生成的初始密码，只显示这一次；用户首次登录须修改"
    )


class PasswordResetOut(BaseModel):
    initial_password: str | None = Field(
        description="系统生成的新初始密码，只显示这一次；管理员自行指定时为空"
    )


class RoleOut(BaseModel):
    code: str
    name: str
    permissions: list[str]

    @classmethod
    def all(cls) -> list[RoleOut]:
        return [
            cls(code=code, name=ROLE_NAMES.get(code, code),
                permissions=sorted(p.value for p in perms))
            for code, perms in ROLE_PERMISSIONS.items()
        ]
