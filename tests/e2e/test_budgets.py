"""Lighthouse-style budgets for every web app: initial JavaScript ≤ 300 KB gzipped, and
the first screen rendered within 1.5 s from the local server. Sizes and times are
written to docs/benchmarks.md."""

from __future__ import annotations

import gzip
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bench.report import write_section
from tests.e2e.conftest import Stack

# Timed: alone, after the parallel pass (scripts/run-tests.sh).
pytestmark = [pytest.mark.e2e, pytest.mark.serial]

ROOT = Path(__file__).resolve().parents[2]
JS_BUDGET = 300 * 1024
FIRST_SCREEN_BUDGET_S = 1.5
# One cold load on a busy CI machine can take a scheduling hiccup; the median of a few
# fresh loads is the figure a user meets.
LOADS = 3


@dataclass(frozen=True)
class WebApp:
    name: str
    folder: Path
    url: Callable[[Stack], str]
    viewport: str


APPS = [
    WebApp("HQ console 总部控制台", ROOT / "cloud" / "web",
           lambda s: s.cloud_url + "/console/", "console"),
    WebApp("kiosk 前台登记", ROOT / "edge_agent" / "web" / "kiosk",
           lambda s: s.edge_url + "/kiosk/", "kiosk"),
    WebApp("consultant PWA 顾问助手", ROOT / "edge_agent" / "web" / "pwa",
           lambda s: s.edge_url + "/pwa/", "phone"),
    WebApp("broker H5 经纪人", ROOT / "cloud" / "h5",
           lambda s: s.cloud_url + "/h5/", "phone"),
]
PRESENT = [a for a in APPS if (a.folder / "package.json").exists()]
RESULTS: dict[str, tuple[int, int, float]] = {}


def initial_js(dist: Path) -> tuple[int, int]:
    """(raw, gzipped) bytes of the entry chunk and every chunk it imports statically."""
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())
    seen: set[str] = set()
    stack = [k for k, v in manifest.items() if v.get("isEntry")]
    assert stack, "the manifest names no entry"
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack.extend(manifest[key].get("imports", []))
    files = {manifest[k]["file"] for k in seen if manifest[k]["file"].endswith(".js")}
    raw = [(dist / f).read_bytes() for f in files]
    return sum(map(len, raw)), sum(len(gzip.compress(b, 9)) for b in raw)


def first_screen(page: Any, url: str) -> float:
    """Seconds from navigation until the app has rendered into #app (or first contentful
    paint, whichever is later), in a fresh browser context (nothing cached). The context
    is closed after: a PWA's service worker goes on precaching the whole app once the page
    is shown, which would otherwise take the CPU from the next load measured."""
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    # A locator, not wait_for_function: the apps' CSP forbids the eval the latter uses.
    page.locator("#app > *").first.wait_for(state="attached")
    elapsed = time.perf_counter() - started
    fcp = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    page.context.close()
    return max(elapsed, (fcp or 0) / 1000)


@pytest.mark.parametrize("app", PRESENT, ids=[a.folder.name for a in PRESENT])
def test_initial_js_and_first_screen_within_budget(
    app: WebApp, stack: Stack, new_page: Callable[..., Any]
) -> None:
    dist = app.folder / "dist"
    assert (dist / "index.html").exists(), f"{dist} is not built (make web)"
    raw, zipped = initial_js(dist)
    shown = statistics.median(first_screen(new_page(app.viewport), app.url(stack))
                              for _ in range(LOADS))
    RESULTS[app.name] = (raw, zipped, shown)
    assert zipped <= JS_BUDGET, f"{app.name}: {zipped / 1024:.0f} KB gzipped"
    assert shown <= FIRST_SCREEN_BUDGET_S, f"{app.name}: first screen in {shown:.2f} s"


def teardown_module() -> None:
    if not RESULTS:
        return
    rows = [
        f"| {name} | {raw / 1024:,.0f} KB | {zipped / 1024:,.0f} KB | {shown * 1000:,.0f} ms |"
        for name, (raw, zipped, shown) in RESULTS.items()
    ]
    write_section("Web apps: initial JavaScript and first screen", "\n".join([
        "Measured by tests/e2e/test_budgets.py (`make manual` writes it here; the last run "
        "wins). Initial JavaScript = the entry chunk and the chunks it imports "
        "statically, from Vite's manifest; first screen = navigation until the app has "
        "rendered into #app (or first contentful paint, whichever is later), the median of "
        "three fresh loads in Debian's Chromium against the local server.",
        "",
        "| app | initial JS | gzipped (budget 300 KB) | first screen (budget 1,500 ms) |",
        "|---|---:|---:|---:|",
        *rows,
    ]))
