"""CPU time per process from Linux /proc, for the benchmarks' "where the CPU went" lines:
a figure beside its ceiling says how fast; the CPU of each process says why."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Mapping
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        found.append((int(entry.name), int(stat.rsplit(")", 1)[1].split()[1]), name))
    return found


def _sum(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL process (other clients' too, if any)."""
    return _sum([pid for pid, _, name in _processes() if name == "postgres"])


def tree_cpu_seconds(root: int) -> float:
    """CPU of a process and its descendants that are running now (a server's workers)."""
    children: dict[int, list[int]] = {}
    for pid, parent, _ in _processes():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return _sum(tree)


def finished_children_cpu_seconds() -> float:
    """CPU of this process's children that have ended and been waited for (Locust runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU seconds of named sources between `start()` and `stop()`."""

    def __init__(self, sources: Mapping[str, Callable[[], float]]) -> None:
        self.sources = dict(sources)
        self._before: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def start(self) -> None:
        self._before = {name: read() for name, read in self.sources.items()}

    def stop(self) -> dict[str, float]:
        self.seconds = {name: read() - self._before[name] for name, read in self.sources.items()}
        return self.seconds
