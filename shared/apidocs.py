"""Interactive API docs served from a bundled Swagger UI: a sales office has no
internet, so the docs page must not fetch its scripts from a CDN."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


def install_api_docs(app: FastAPI, prefix: str) -> None:
    """`{prefix}/docs` with its assets under `{prefix}/docs-assets/`."""
    assets = f"{prefix}/docs-assets"
    app.mount(assets, StaticFiles(directory=ASSETS), name="api-docs-assets")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/openapi.json", title=f"{app.title} — 接口文档",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )
