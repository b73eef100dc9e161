"""Running the API load benchmark: the API (`anchang serve`) and the bare stack as real
server processes, Locust headless against them, its CSV read back into per-route
figures."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cloud.settings import CloudSettings
from tests.cloud import PASSWORD
from tests.conftest import cloud_env
from tests.integration.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SHED = "shed"


@dataclass(frozen=True)
class RouteStats:
    name: str
    requests: int
    errors: int  # failures other than deliberate 503s
    shed: int  # 503 + Retry-After
    median_ms: float
    p95_ms: float
    p99_ms: float
    rps: float


@dataclass(frozen=True)
class LocustRun:
    label: str
    users: int
    seconds: int
    routes: list[RouteStats]
    total: RouteStats


class Server:
    """A server process on a free port, stopped with SIGTERM."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [a.replace("{port}", str(self.port)) for a in args]
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + ready_path, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer within 60 s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


def sign_in(api_url: str, username: str) -> str:
    """A bench account's access token (every bench account has tests.cloud.PASSWORD)."""
    response = httpx.post(f"{api_url}/api/v1/auth/login", timeout=60,
                          json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ANCHANG_")}


def api_server(settings: CloudSettings, workers: int, workdir: Path,
               **extra: str) -> Server:
    """`extra`: further ANCHANG_CLOUD_* settings by field name (redis_url="…")."""
    env = {
        **_base_env(),
        **cloud_env(settings),
        "ANCHANG_CLOUD_ACCESS_TOKEN_MINUTES": "120",
        **{f"ANCHANG_CLOUD_{name.upper()}": value for name, value in extra.items()},
    }
    return Server([str(BIN / "anchang"), "serve", "--port", "{port}", "--workers",
                   str(workers)], env, workdir / "api.log")


def bare_server(settings: CloudSettings, workers: int, workdir: Path) -> Server:
    env = {**_base_env(), "ANCHANG_BENCH_DATABASE_URL": settings.database_url,
           "ANCHANG_BENCH_POOL_SIZE": str(settings.db_pool_size)}
    return Server([str(BIN / "uvicorn"), "tests.bench.bare_app:app", "--port", "{port}",
                   "--workers", str(workers), "--log-level", "warning"], env,
                  workdir / "bare.log")


def run_locust(*, plan: Path, classes: list[str], users: int, seconds: int, think: float,
               workdir: Path, label: str) -> LocustRun:
    prefix = workdir / label.replace(" ", "_")
    env = {**_base_env(), "ANCHANG_BENCH_PLAN": str(plan), "ANCHANG_BENCH_THINK": str(think)}
    spawn = max(users // 5, 1)  # everyone on within five seconds
    subprocess.run(
        [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
         "-u", str(users), "-r", str(spawn), "-t", f"{seconds}s", "--stop-timeout", "5",
         "--csv", str(prefix), "--loglevel", "WARNING", *classes],
        env=env, cwd=ROOT, stdout=(workdir / "locust.log").open("ab"),
        stderr=subprocess.STDOUT, timeout=seconds + 120, check=False)
    shed: dict[str, int] = {}
    with Path(f"{prefix}_failures.csv").open() as f:
        for row in csv.DictReader(f):
            if SHED in row["Error"]:
                shed[row["Name"]] = shed.get(row["Name"], 0) + int(row["Occurrences"])
    routes: list[RouteStats] = []
    with Path(f"{prefix}_stats.csv").open() as f:
        for row in csv.DictReader(f):
            name = row["Name"]
            failures = int(row["Failure Count"])
            shed_here = sum(shed.values()) if name == "Aggregated" else shed.get(name, 0)
            routes.append(RouteStats(
                name=name, requests=int(row["Request Count"]), errors=failures - shed_here,
                shed=shed_here, median_ms=float(row["50%"] or 0),
                p95_ms=float(row["95%"] or 0), p99_ms=float(row["99%"] or 0),
                rps=float(row["Requests/s"] or 0)))
    total = next(r for r in routes if r.name == "Aggregated")
    return LocustRun(label, users, seconds, [r for r in routes if r is not total], total)
