"""Domain errors with a stable code, an HTTP status and a Chinese message.

Services raise these; one handler per app renders them as RFC 9457 problem+json.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error a user may see. `code` is stable: clients branch on it."""

    status: int = 400
    code: str = "bad_request"
    title: str = "请求有误"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.detail = detail or self.title
        # Seconds until trying again makes sense; rendered as the Retry-After header.
        self.retry_after = retry_after
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        super().__init__(f"{self.code}: {self.detail}")


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"
    title = "输入数据不合法"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "资源不存在"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "资源冲突"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "未登录或登录已过期"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "没有权限执行此操作"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"
    title = "请求过于频繁"


class Unavailable(AppError):
    status = 503
    code = "unavailable"
    title = "服务暂不可用"
