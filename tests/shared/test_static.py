from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.static import mount_spa


def test_spa_files_fallback_cache_and_no_escape(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=app>控制台</div>")
    (dist / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("no")
    app = FastAPI()
    assert mount_spa(app, "/console", dist)
    assert not mount_spa(app, "/missing", tmp_path / "nothing")
    client = TestClient(app)
    asset = client.get("/console/assets/app-1a2b.js")
    assert asset.text == "console.log(1)" and "immutable" in asset.headers["cache-control"]
    deep = client.get("/console/users/7")
    assert "控制台" in deep.text and deep.headers["cache-control"] == "no-cache"
    assert client.get("/console", follow_redirects=False).status_code == 307
    escape = client.get("/console/..%2Fsecret.txt")
    assert escape.text != "no" and "控制台" in escape.text
