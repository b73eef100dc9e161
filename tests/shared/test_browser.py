"""Browser hardening: security headers, HSTS only over TLS, operators' pages closed in
production, no inline script in any page we serve, precompressed static files."""

from __future__ import annotations

import base64
import gzip
import os
import re
from pathlib import Path

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from shared.apidocs import install_api_docs
from shared.browser import HardeningSettings, install_browser_hardening
from shared.http import install_request_middleware
from shared.static import mount_spa

ROOT = Path(__file__).resolve().parents[2]
BUILT_APPS = {
    "console": ROOT / "cloud" / "web" / "dist",
    "h5": ROOT / "cloud" / "h5" / "dist",
    "kiosk": ROOT / "edge_agent" / "web" / "kiosk" / "dist",
    "pwa": ROOT / "edge_agent" / "web" / "pwa" / "dist",
}
TOKEN = "t" * 32


def app_with(tmp_path: Path, *, mode: str = "production", ops_token: str | None = TOKEN,
             proxies: tuple[str, ...] = ()) -> FastAPI:
    from prometheus_client import CollectorRegistry

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True, exist_ok=True)
    (dist / "index.html").write_text("<div id=app></div>")
    body = "console.log('控制台');" * 200
    (dist / "assets" / "app-1a2b.js").write_text(body)
    (dist / "assets" / "app-1a2b.js.gz").write_bytes(gzip.compress(body.encode()))
    app = FastAPI(docs_url=None, openapi_url="/api/v1/openapi.json")
    install_api_docs(app, "/api/v1")
    install_request_middleware(app, CollectorRegistry(), "t", access_log=False)
    mount_spa(app, "/console", dist)

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "1"}

    @app.get("/api/v1/framed")
    def framed() -> Response:
        return Response("x", headers={"X-Frame-Options": "SAMEORIGIN", "X-Own": "kept"})

    settings = HardeningSettings(mode=mode, ops_token=ops_token,  # type: ignore[arg-type]
                                 trusted_proxies=list(proxies))
    install_browser_hardening(app, settings, connect_src=["https://cloud.example"])
    return app


def test_every_response_carries_the_security_headers(tmp_path: Path) -> None:
    client = TestClient(app_with(tmp_path))
    for path in ("/api/v1/ping", "/console/", "/console/assets/app-1a2b.js", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-eval" not in csp and "connect-src 'self' https://cloud.example" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers  # plain HTTP


def test_the_policys_headers_replace_a_responses_own(tmp_path: Path) -> None:
    headers = TestClient(app_with(tmp_path)).get("/api/v1/framed").headers
    assert headers.get_list("x-frame-options") == ["DENY"]
    assert headers["x-own"] == "kept"


def test_hsts_only_over_tls_and_forwarded_proto_only_from_a_trusted_proxy(
    tmp_path: Path,
) -> None:
    https = TestClient(app_with(tmp_path), base_url="https://testserver")
    assert "max-age=31536000" in https.get("/api/v1/ping").headers["strict-transport-security"]
    forwarded = {"X-Forwarded-Proto": "https"}
    # TestClient's peer is "testclient": not an address, so never a trusted proxy.
    untrusted = TestClient(app_with(tmp_path, proxies=("127.0.0.1",)))
    assert "strict-transport-security" not in untrusted.get("/api/v1/ping",
                                                            headers=forwarded).headers
    trusted = TestClient(app_with(tmp_path, proxies=("127.0.0.0/8",)), client=("127.0.0.1", 5))
    assert "strict-transport-security" in trusted.get("/api/v1/ping", headers=forwarded).headers
    assert "strict-transport-security" not in trusted.get("/api/v1/ping").headers


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/docs", "/api/v1/openapi.json",
                                  "/api/v1/docs/init.js", "/api/v1/docs-assets/swagger-ui.css"])
def test_operators_pages_need_the_ops_token_in_production(tmp_path: Path, path: str) -> None:
    client = TestClient(app_with(tmp_path))
    refused = client.get(path)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    basic = base64.b64encode(f"ops:{TOKEN}".encode()).decode()
    assert client.get(path, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    closed = TestClient(app_with(tmp_path, ops_token=None))
    assert closed.get(path, headers={"Authorization": "Bearer "}).status_code == 401
    assert TestClient(app_with(tmp_path, mode="demo")).get(path).status_code == 200


def _inline_scripts(html: str) -> list[str]:
    """<script> elements with a body or an inline event handler attribute."""
    found = [m.group(0)[:80] for m in re.finditer(r"<script\b[^>]*>(.*?)</script>", html, re.S)
             if m.group(1).strip()]
    found += re.findall(r"\son[a-z]+\s*=", html)
    return found


def test_the_api_docs_page_has_no_inline_script(tmp_path: Path) -> None:
    page = TestClient(app_with(tmp_path, mode="demo")).get("/api/v1/docs").text
    assert "swagger-ui-bundle.js" in page and "/api/v1/docs/init.js" in page
    assert _inline_scripts(page) == []


@pytest.mark.parametrize("name", sorted(BUILT_APPS))
def test_built_apps_have_no_inline_script_and_are_precompressed(name: str) -> None:
    dist = BUILT_APPS[name]
    if not (dist / "index.html").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not built (make web)")
        pytest.skip(f"{name} is not built (make web)")
    assert _inline_scripts((dist / "index.html").read_text()) == []
    scripts = list((dist / "assets").glob("*.js"))
    assert scripts
    for script in scripts:
        if script.stat().st_size >= 1024:
            assert script.with_name(script.name + ".br").is_file(), script
            assert gzip.decompress(script.with_name(script.name + ".gz").read_bytes()) \
                == script.read_bytes()


def test_static_files_are_sent_precompressed_when_accepted(tmp_path: Path) -> None:
    client = TestClient(app_with(tmp_path))
    packed = client.get("/console/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip"})
    # httpx decodes the body; the header shows what travelled.
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.text.startswith("console.log('控制台');")
    assert packed.headers["content-type"].startswith("text/javascript")
    plain = client.get("/console/assets/app-1a2b.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    refused = client.get("/console/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_an_outside_script_is_allowed_under_its_path_only(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    inner = FastAPI()
    mount_spa(inner, "/h5", tmp_path / "dist")
    install_browser_hardening(inner, HardeningSettings(mode="demo"),  # type: ignore[arg-type]
                              scripts_by_path={"/h5": ["https://res.wx.qq.com"]})
    client = TestClient(inner)
    for path in ("/h5", "/h5/", "/h5/projects", "/h5/assets/app-1a2b.js"):
        csp = client.get(path).headers["content-security-policy"]
        assert "script-src 'self' https://res.wx.qq.com;" in csp, path
    for path in ("/h5other/", "/console/", "/"):
        csp = client.get(path).headers["content-security-policy"]
        assert "script-src 'self';" in csp, path
    assert "res.wx.qq.com" not in TestClient(app).get("/console/").headers[
        "content-security-policy"]
