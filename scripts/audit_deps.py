"""Scan the locked dependencies for known vulnerabilities: constraints.txt with pip-audit and
each web app's package-lock.json with npm audit.

Both need an advisory service (PyPI's JSON API or OSV for pip-audit, the registry's bulk
advisory endpoint for npm). A network that reaches only package mirrors answers neither;
then the scan says so plainly and passes, unless ANCHANG_AUDIT_STRICT=1 — the procedure
for that case is in docs/operations.md ("Dependency audit"). Findings always fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "build" / "audit-venv"
# pip-audit asks for one release of each package; some mirrors answer only the project page.
PYPI_PROBE = "https://pypi.org/pypi/pip/24.0/json"
OSV_PROBE = "https://api.osv.dev/v1/query"
SERIOUS = ("high", "critical")


@dataclass(frozen=True)
class Outcome:
    target: str
    status: str  # clean | vulnerable | unreachable
    detail: str = ""


def answers(url: str, body: bytes | None = None) -> bool:
    if not url.startswith("https://"):
        raise ValueError(url)
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET",  # noqa: S310 (https only, checked above)
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def npm_outcome(target: str, report: dict[str, object]) -> Outcome:
    """Classify `npm audit --json` output: an endpoint error carries no metadata."""
    metadata = report.get("metadata")
    if not isinstance(metadata, dict):
        return Outcome(target, "unreachable", str(report.get("message", "no audit report")))
    counts = metadata.get("vulnerabilities", {})
    serious = {level: counts.get(level, 0) for level in SERIOUS}
    if any(serious.values()):
        return Outcome(target, "vulnerable", ", ".join(f"{k} {v}" for k, v in serious.items()))
    return Outcome(target, "clean")


def audit_npm(app: Path) -> Outcome:
    done = subprocess.run(["npm", "audit", "--package-lock-only", "--json"], cwd=app,
                          capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        report = {"message": done.stderr.strip()[-200:]}
    return npm_outcome(str(app.relative_to(ROOT)), report)


def audit_python() -> Outcome:
    if answers(PYPI_PROBE):
        service = "pypi"
    elif answers(OSV_PROBE, b'{"package": {"name": "pip", "ecosystem": "PyPI"}}'):
        service = "osv"
    else:
        return Outcome("constraints.txt", "unreachable", "neither PyPI's JSON API nor OSV")
    pip_audit = TOOLS / "bin" / "pip-audit"
    if not pip_audit.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(TOOLS / "bin" / "pip"), "install", "-q", "pip-audit"], check=True,
                       capture_output=True)
    done = subprocess.run([str(pip_audit), "-r", str(ROOT / "constraints.txt"), "--no-deps",
                           "--disable-pip", "-s", service, "-f", "json",
                           "--progress-spinner", "off"],
                          capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return Outcome("constraints.txt", "unreachable", done.stderr.strip()[-200:])
    return pip_outcome(report)


def pip_outcome(report: dict[str, list[dict[str, object]]]) -> Outcome:
    """Classify `pip-audit -f json` output. A package the service could not look up is
    reported as skipped, not as safe: pip-audit itself exits 0 for it."""
    found = [f"{d['name']} {d['version']}: {', '.join(str(v['id']) for v in vulns)}"
             for d in report.get("dependencies", [])
             if isinstance(vulns := d.get("vulns"), list) and vulns]
    if found:
        return Outcome("constraints.txt", "vulnerable", "; ".join(found))
    skipped = [str(d["name"]) for d in report.get("dependencies", []) if d.get("skip_reason")]
    if skipped:
        return Outcome("constraints.txt", "unreachable",
                       f"{len(skipped)} packages not looked up, e.g. {', '.join(skipped[:3])}")
    return Outcome("constraints.txt", "clean")


def say(line: str) -> None:
    sys.stdout.write(f"audit-deps: {line}\n")


def main() -> int:
    apps = sorted(p.parent for pattern in ("cloud/web/package-lock.json",
                                           "cloud/h5/package-lock.json",
                                           "edge_agent/web/*/package-lock.json")
                  for p in ROOT.glob(pattern))
    outcomes = [audit_python(), *(audit_npm(app) for app in apps)]
    for outcome in outcomes:
        say(f"{outcome.target}: {outcome.status}"
            + (f" — {outcome.detail}" if outcome.detail else ""))
    if any(o.status == "vulnerable" for o in outcomes):
        return 1
    if any(o.status == "unreachable" for o in outcomes):
        say("an advisory service is unreachable from this network; "
            "follow docs/operations.md (Dependency audit) on a connected machine")
        return 1 if os.environ.get("ANCHANG_AUDIT_STRICT") == "1" else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
