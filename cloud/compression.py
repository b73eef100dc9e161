"""Brotli or gzip for JSON answers above a size (issue #24).

A pure ASGI middleware, not Starlette's GZipMiddleware: that one has no brotli and
compresses every type, including XLSX exports that are ZIP files already. An answer is
gathered up to MAX_BUFFERED; anything longer passes through as a stream.
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
# Beyond this an answer is treated as a stream and sent as it is.
MAX_BUFFERED = 4 * 1024 * 1024


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
        parts: list[bytes] = []
        size = 0

        async def compressing_send(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                if ("content-encoding" in headers
                        or not headers.get("content-type", "").startswith(COMPRESSIBLE)):
                    await send(message)
                else:
                    start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            # Wrapping middleware may deliver one answer in several parts: gather them.
            body: bytes = message.get("body", b"")
            parts.append(body)
            size += len(body)
            more = message.get("more_body", False)
            if more and size <= MAX_BUFFERED:
                return
            first, start = start, None
            whole = b"".join(parts)
            parts.clear()
            if more or size < self.min_bytes:  # a stream, or too small to be worth it
                await send(first)
                await send({"type": "http.response.body", "body": whole, "more_body": more})
                return
            packed = _compress(whole, encoding)
            headers = MutableHeaders(scope=first)
            headers["content-encoding"] = encoding
            headers["content-length"] = str(len(packed))
            headers.add_vary_header("Accept-Encoding")
            await send(first)
            await send({"type": "http.response.body", "body": packed})

        await self.app(scope, receive, compressing_send)
