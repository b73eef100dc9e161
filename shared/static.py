"""Serving a built single-page app (Vite `dist/`) from a FastAPI app, with no CDN.

Hashed assets are cached for a year; index.html and the service worker are never cached,
so a new build reaches users on their next load. Any other path under the prefix gets
index.html (client-side routing). Files are sent as the build precompressed them
(scripts/precompress.mjs writes .br and .gz beside each) when the browser accepts that.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

NO_CACHE = {"Cache-Control": "no-cache"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
# Best first: brotli is some 15-20 % smaller than gzip on these bundles.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def _accepted(accept_encoding: str) -> set[str]:
    accepted = set()
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(name.strip().lower())
    return accepted


def file_response(request: Request, path: Path, headers: dict[str, str]) -> FileResponse:
    """`path`, or its precompressed twin in an encoding the request accepts."""
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    accepted = _accepted(request.headers.get("accept-encoding", ""))
    for encoding, suffix in ENCODINGS:
        twin = path.with_name(path.name + suffix)
        if encoding in accepted and twin.is_file():
            return FileResponse(twin, media_type=media_type, headers={
                **headers, "Content-Encoding": encoding, "Vary": "Accept-Encoding"})
    return FileResponse(path, media_type=media_type, headers={**headers, "Vary": "Accept-Encoding"})


def mount_spa(app: FastAPI, prefix: str, dist: Path) -> bool:
    """Serve `dist` under `prefix` (e.g. "/console"); False when it has not been built."""
    index = dist / "index.html"
    if not index.is_file():
        return False
    root = dist.resolve()

    @app.get(prefix, include_in_schema=False)
    def redirect() -> Response:
        return RedirectResponse(prefix + "/")

    @app.get(prefix + "/{path:path}", include_in_schema=False)
    def spa(path: str, request: Request) -> Response:
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            hashed = "/assets/" in f"/{path}"
            return file_response(request, candidate, IMMUTABLE if hashed else NO_CACHE)
        return file_response(request, index, NO_CACHE)

    return True
