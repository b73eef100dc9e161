"""Accessibility checks in the browser tests with axe-core (the engine ships inside the
axe-playwright-python wheel, so nothing is fetched at run time)."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

_AXE = Axe()


def axe_violations(page: Any, rules: list[str], within: str | None = None) -> list[str]:
    """One line per failing node of the given axe rules, e.g. ["color-contrast: .muted"]."""
    options = {"runOnly": {"type": "rule", "values": rules}, "resultTypes": ["violations"]}
    results = _AXE.run(page, context=within, options=options)
    found: list[str] = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            found.append(f"{violation['id']}: {target} — {node.get('failureSummary', '')}")
    return found
