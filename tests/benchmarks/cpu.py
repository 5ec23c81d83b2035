"""CPU time spent by the processes involved, read from /proc: the server under test, the
PostgreSQL backends serving the run's database, Redis, wrk. Per request, it shows where an
endpoint's cost lies; what the rest of the machine used meanwhile ("foreign") tells how
far other work on the same cores may have bent the numbers."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Snapshot:
    wall: float
    busy: float  # the whole machine's non-idle CPU seconds
    server: float
    postgres: dict[int, float]  # backend pid: CPU seconds
    redis: float  # the whole redis-server (shared with whoever else uses it)
    children: float  # wrk and any other finished child of the harness
    harness: float


def _cpu_seconds(pid: str) -> tuple[str, float]:
    """(process name, user + system seconds of all its threads) from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return text[text.index("(") + 1 : text.rindex(")")], (int(fields[11]) + int(fields[12])) / TICK


def _machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK  # all but idle and iowait


def snapshot(server_pid: int, database: str) -> Snapshot:
    server = redis = 0.0
    postgres: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, used = _cpu_seconds(entry.name)
            if int(entry.name) == server_pid:
                server = used
            elif name.startswith("redis-server"):
                redis += used
            elif name == "postgres" and f" {database} " in (entry / "cmdline").read_text():
                postgres[int(entry.name)] = used
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    return Snapshot(
        time.monotonic(),
        _machine_busy(),
        server,
        postgres,
        redis,
        children.ru_utime + children.ru_stime,
        me.ru_utime + me.ru_stime,
    )


def usage(before: Snapshot, after: Snapshot, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request by process, and the cores that other processes used
    meanwhile. PostgreSQL counts the backends of the run's database that were still there
    at the end (a pooled connection closed during the run is missed)."""
    postgres = sum(used - before.postgres.get(pid, 0.0) for pid, used in after.postgres.items())
    ours = {
        "server": after.server - before.server,
        "postgres": postgres,
        "redis": after.redis - before.redis,
    }
    spent = sum(ours.values()) + after.children - before.children + after.harness - before.harness
    wall = max(after.wall - before.wall, 1e-6)
    per_request = {key: round(1000 * value / max(requests, 1), 3) for key, value in ours.items()}
    return {
        **per_request,
        "foreign_cores": round(max(0.0, after.busy - before.busy - spent) / wall, 2),
    }


def foreign_load(seconds: float = 2.0) -> float:
    """Cores kept busy by the rest of the machine while the harness waits."""
    start, wall = _machine_busy(), time.monotonic()
    time.sleep(seconds)
    return round((_machine_busy() - start) / (time.monotonic() - wall), 2)
