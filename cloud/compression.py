"""Brotli or gzip for JSON answers above a size (issue #24).

A pure ASGI middleware, not Starlette's GZipMiddleware: that one has no brotli and
compresses every type, including XLSX exports that are ZIP files already. Only bodies
sent in one piece are compressed (every JSON answer is); streams pass through.
Brotli's quality and gzip's level are chosen for CPU, not for the last byte: the API
process, not the network, is what runs out first (docs/benchmarks.md).
"""

from __future__ import annotations

import gzip

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = ("application/json", "application/problem+json", "text/")
BROTLI_QUALITY = 4
GZIP_LEVEL = 6


def _encoding(accept: str) -> str | None:
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if "br" in offered:
        return "br"
    if "gzip" in offered:
        return "gzip"
    return None


def _compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, *, min_bytes: int) -> None:
        self.app = app
        self.min_bytes = min_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = _encoding(Headers(scope=scope).get("accept-encoding", ""))
        if encoding is None:
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def compressing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is None:  # trailers or a second body part: already decided
                await send(message)
                return
            first, start = start, None
            headers = MutableHeaders(scope=first)
            body: bytes = message.get("body", b"")
            if (
                message.get("more_body", False)
                or len(body) < self.min_bytes
                or "content-encoding" in headers
                or not headers.get("content-type", "").startswith(COMPRESSIBLE)
            ):
                await send(first)
                await send(message)
                return
            packed = _compress(body, encoding)
            headers["content-encoding"] = encoding
            headers["content-length"] = str(len(packed))
            headers.add_vary_header("Accept-Encoding")
            await send(first)
            await send({"type": "http.response.body", "body": packed})

        await self.app(scope, receive, compressing_send)
