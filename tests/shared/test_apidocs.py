from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.apidocs import install_api_docs


def test_docs_page_loads_its_assets_from_this_server_not_a_cdn() -> None:
    app = FastAPI(title="测试", docs_url=None, openapi_url="/api/v1/openapi.json")
    install_api_docs(app, "/api/v1")
    client = TestClient(app)
    page = client.get("/api/v1/docs").text
    assert "cdn" not in page.lower() and "/api/v1/docs-assets/swagger-ui-bundle.js" in page
    script = client.get("/api/v1/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
