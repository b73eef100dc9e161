"""Serving a built single-page app (Vite `dist/`) from a FastAPI app, with no CDN.

Hashed assets are cached for a year; index.html and the service worker are never cached,
so a new build reaches users on their next load. Any other path under the prefix gets
index.html (client-side routing).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response

NO_CACHE = {"Cache-Control": "no-cache"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


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
    def spa(path: str) -> Response:
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            hashed = "/assets/" in f"/{path}"
            return FileResponse(candidate, headers=IMMUTABLE if hashed else NO_CACHE)
        return FileResponse(index, headers=NO_CACHE)

    return True
