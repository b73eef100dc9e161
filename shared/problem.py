"""RFC 9457 problem+json rendering shared by the cloud and edge FastAPI apps."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import AppError

PROBLEM_TYPE_BASE = "https://anchang.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求有误"),
    401: ("unauthorized", "未登录或登录已过期"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持的请求方法"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    429: ("too_many_requests", "请求过于频繁"),
}


def problem(
    status: int, code: str, detail: str, instance: str,
    headers: dict[str, str] | None = None, **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": detail,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


log = structlog.get_logger()


def log_unhandled(exc: BaseException) -> None:
    """A failure answered 500: its class and traceback, under the request id bound."""
    log.error("unhandled_error", error=type(exc).__name__, exc_info=exc)


def internal_error(path: str, exc: BaseException | None = None) -> JSONResponse:
    """The answer to a failure nobody handled: no detail of it leaves the server. `exc`:
    one a handler inside the request middleware caught, so that middleware, which logs
    what escapes it (shared.http), never sees it — logged here, under the request id."""
    if exc is not None:
        log_unhandled(exc)
    return problem(500, "internal_error", "服务器内部错误，请稍后重试", path)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append({"field": ".".join(loc), "type": err.get("type"), "msg": err.get("msg")})
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        headers = None
        if exc.retry_after is not None:
            headers = {"Retry-After": str(exc.retry_after)}
        return problem(exc.status, exc.code, exc.detail, request.url.path, headers=headers,
                       **exc.extra)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(
            422, "validation_failed", "输入数据不合法", request.url.path,
            errors=_field_errors(exc),
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code, detail = _HTTP_CODES.get(exc.status_code, ("http_error", "请求失败"))
        return problem(exc.status_code, code, detail, request.url.path)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request.url.path)  # logged by the request middleware

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
