"""Interactive API docs served from a bundled Swagger UI: a sales office has no
internet, so the docs page must not fetch its scripts from a CDN. The page has no inline
script (the Content-Security-Policy allows scripts from this server only): Swagger UI is
started by `{prefix}/docs/init.js`."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


def install_api_docs(app: FastAPI, prefix: str) -> None:
    """`{prefix}/docs` with its assets under `{prefix}/docs-assets/`."""
    assets = f"{prefix}/docs-assets"
    app.mount(assets, StaticFiles(directory=ASSETS), name="api-docs-assets")
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon-32x32.png">
<title>{escape(app.title)} — 接口文档</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs/init.js"></script>
</body>
</html>
"""
    init = f"""window.ui = SwaggerUIBundle({{
  url: {json.dumps(f"{prefix}/openapi.json")},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
"""

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{prefix}/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(init, media_type="text/javascript")
