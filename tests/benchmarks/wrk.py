"""Driving wrk (the Debian package) and reading its answer.

Every run gets a Lua script ending in lua/report.lua, whose `done` prints one JSON line
(`WRK_JSON {...}`) with the request count, the errors and the latency percentiles."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
INSTALL_HINT = (
    "wrk is not installed. It is a Debian package: "
    "`apt-get update && apt-get install -y wrk` (as root)."
)


def require_wrk() -> str:
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit(f"benchmarks: {INSTALL_HINT}")
    return binary


def wrk_version() -> str:
    completed = subprocess.run(
        [require_wrk(), "--version"], capture_output=True, text=True, check=False
    )
    return (completed.stdout or completed.stderr).splitlines()[0].strip()


@dataclass
class Target:
    """What one wrk run sends: a URL, static headers, and Lua (settings, then scripts)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    lua_settings: str = ""  # global assignments read by the scripts
    scripts: tuple[str, ...] = ()  # file names in lua/


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    max_ms: float
    errors: int  # connect, read, write and timeout errors
    non_2xx: int  # answers that were not 2xx or 3xx
    connections: int
    cpu: dict[str, float] = field(default_factory=dict)  # set by measure: see cpu.usage


def start(
    target: Target,
    script_path: Path,
    duration: float,
    connections: int,
    threads: int,
    timeout_s: int = 5,
) -> subprocess.Popen[str]:
    parts = [target.lua_settings] + [(LUA / name).read_text() for name in target.scripts]
    script_path.write_text("\n".join([*parts, (LUA / "report.lua").read_text()]))
    command = [
        require_wrk(),
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(script_path),
    ]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    return subprocess.Popen(
        [*command, target.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str], connections: int) -> Result:
    stdout, stderr = process.communicate()
    line = next((row for row in stdout.splitlines() if row.startswith("WRK_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr.strip() or stdout}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    seconds = raw["duration_us"] / 1e6
    return Result(
        requests=int(raw["requests"]),
        seconds=round(seconds, 2),
        rps=round(raw["requests"] / seconds, 1),
        p50_ms=raw["p50"] / 1000,
        p90_ms=raw["p90"] / 1000,
        p99_ms=raw["p99"] / 1000,
        p999_ms=raw["p999"] / 1000,
        mean_ms=round(raw["mean"] / 1000, 3),
        max_ms=raw["max"] / 1000,
        errors=int(raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]),
        non_2xx=int(raw["status"]),
        connections=connections,
    )


def run(
    target: Target, script_path: Path, duration: float, connections: int, threads: int
) -> Result:
    return finish(start(target, script_path, duration, connections, threads), connections)
