"""The dependency scan must never call an unanswered lookup "clean"."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


audit = load()


def test_a_package_the_service_could_not_look_up_is_not_clean() -> None:
    report = {"dependencies": [
        {"name": "fastapi", "version": "0.165.0", "vulns": []},
        {"name": "requests", "skip_reason": "Dependency not found on PyPI"},
    ]}
    assert audit.pip_outcome(report).status == "unreachable"


def test_python_findings_fail_and_name_the_advisory() -> None:
    report = {"dependencies": [
        {"name": "requests", "version": "2.19.0",
         "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"]}]},
        {"name": "other", "skip_reason": "not found"},
    ]}
    outcome = audit.pip_outcome(report)
    assert outcome.status == "vulnerable" and "PYSEC-2018-28" in outcome.detail


def test_every_package_looked_up_without_findings_is_clean() -> None:
    report = {"dependencies": [{"name": "fastapi", "version": "0.165.0", "vulns": []}]}
    assert audit.pip_outcome(report).status == "clean"


def test_npm_endpoint_errors_are_unreachable_not_clean() -> None:
    report = {"message": "405 Method Not Allowed - POST …/advisories/bulk", "statusCode": 405}
    assert audit.npm_outcome("cloud/web", report).status == "unreachable"


def test_npm_high_or_critical_findings_fail_and_low_ones_pass() -> None:
    serious = {"metadata": {"vulnerabilities": {"low": 3, "high": 1, "critical": 0}}}
    minor = {"metadata": {"vulnerabilities": {"low": 3, "moderate": 1, "high": 0}}}
    assert audit.npm_outcome("a", serious).status == "vulnerable"
    assert audit.npm_outcome("a", minor).status == "clean"
