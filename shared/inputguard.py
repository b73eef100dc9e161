"""A pure ASGI middleware that refuses, before any route runs, the inputs that would
otherwise reach a database or the file system and break there (a 500) or be stored as
something no screen can show:

- a path with a control character or bytes that are not UTF-8 → 404 (no route and no
  file has such a name; a NUL would reach `open()` in the static file routes);
- a query string with one, or not UTF-8 → 422 `control_characters`;
- a JSON body over the size limit → 413; one with a control character in any string
  (JSON can only carry them escaped, as \\u0000 …; tab, line feed and carriage return are
  text) → 422 `control_characters`. PostgreSQL refuses NUL in text outright.

An upload route (multipart, e.g. appeal evidence) has its own, larger limit and code; its
body is binary, so it is not searched for JSON escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problem import MEDIA_TYPE, PROBLEM_TYPE_BASE

_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
# An escape of a C0 control (but \t \n \r) or DEL, preceded by an even run of
# backslashes — an odd one would make it the text "\u0000", which is harmless; or a raw
# DEL, which JSON lets through unescaped (raw C0 bytes the JSON parser refuses itself).
_JSON_CONTROL = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])|u007[fF]|[bf])|\x7f"
)


@dataclass(frozen=True)
class UploadRoute:
    path: re.Pattern[str]
    max_bytes: int
    code: str
    detail: str


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int,
                 uploads: Sequence[UploadRoute] = ()) -> None:
        self.app = app
        self.max_bytes = max_body_bytes
        self.uploads = tuple(uploads)

    def _upload(self, scope: Scope) -> UploadRoute | None:
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if not content_type.startswith(b"multipart/form-data"):
            return None
        return next((u for u in self.uploads if u.path.fullmatch(scope["path"])), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not _clean(scope.get("raw_path") or scope["path"].encode("utf-8", "replace")):
            await _problem(scope, send, 404, "not_found", "资源不存在")
            return
        if not _clean(scope.get("query_string", b"").replace(b"+", b" ")):
            await _control_characters(scope, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = self._upload(scope)
        limit = upload.max_bytes if upload else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(scope, send, upload)
            return
        chunks: list[bytes] = []
        size = 0
        while True:  # buffer the (small) body, so a chunked upload cannot exceed the limit
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, send, upload)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if upload is None and _JSON_CONTROL.search(body):
            await _control_characters(scope, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send, upload: UploadRoute | None) -> None:
        if upload is not None:
            await _problem(scope, send, 413, upload.code, upload.detail)
            return
        await _problem(scope, send, 413, "payload_too_large",
                       f"请求内容过大（上限 {self.max_bytes} 字节）")


def _clean(raw: bytes) -> bool:
    """Percent-decoded, the bytes are UTF-8 and carry no control character."""
    decoded = unquote_to_bytes(raw)
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROL_BYTES.search(decoded) is None


async def _control_characters(scope: Scope, send: Send) -> None:
    await _problem(scope, send, 422, "control_characters",
                   "输入中含有不允许的控制字符（如 NUL），请删除后重试")


async def _problem(scope: Scope, send: Send, status: int, code: str, detail: str) -> None:
    problem: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code, "title": detail, "status": status, "code": code,
        "detail": detail, "instance": scope.get("path", ""),
    }
    body = json.dumps(problem, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
