"""A quick CPU profile of the service under load: `py-spy record` (PyPI) on the uvicorn
process while wrk drives one endpoint, summarised by package and by function."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")
PROJECT = ("domain", "application", "adapters", "entrypoints", "migrations")


def py_spy() -> str | None:
    return shutil.which("py-spy") or (shutil.which("py-spy", path=str(Path(sys.executable).parent)))


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    binary = py_spy()
    if binary is None:
        raise SystemExit("benchmarks: --profile needs py-spy: .venv/bin/pip install py-spy")
    # --gil: only samples where a thread holds the GIL, i.e. Python's own CPU time (the
    # waiting event loop and idle pool threads drop out; argon2's C code, which releases
    # the GIL, does too).
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "200",
            "--gil",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def where(path: str) -> str:
    """The package a frame's file belongs to: a library, a layer of Bookly, or a stdlib
    module (py-spy shows paths relative to sys.path where it can)."""
    relative = path.split("site-packages/", 1)[-1].removeprefix(str(ROOT) + "/")
    if "/lib/python3" in relative:
        relative = relative.split("/lib/python3", 1)[1].split("/", 1)[-1]
    head = relative.split("/", 1)[0].removesuffix(".py")
    return f"bookly:{head}" if head in PROJECT else head or "?"


def summarise(raw: Path, top: int = 12) -> dict[str, object]:
    by_package: Counter[str] = Counter()
    package_inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    project_inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [FRAME.match(frame) for frame in stack.split(";")]
        frames = [f for f in frames if f is not None]
        loop = [i for i, f in enumerate(frames) if f["function"] == "Runner.run"]
        frames = frames[loop[0] + 1 :] or frames[loop[0] :] if loop else frames  # below the loop
        if not frames:
            continue
        leaf = frames[-1]
        by_package[where(leaf["path"])] += count
        for package in {where(f["path"]) for f in frames}:
            package_inclusive[package] += count
        self_time[f"{leaf['function']} ({_short(leaf['path'])})"] += count
        seen = {
            f"{f['function']} ({_short(f['path'])})"
            for f in frames
            if where(f["path"]).startswith("bookly:") and "entrypoints/cli/" not in f["path"]
        }
        for name in seen:
            project_inclusive[name] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "self_by_package_pct": share(by_package),
        "inclusive_by_package_pct": share(package_inclusive),
        "self_by_function_pct": share(self_time),
        "bookly_inclusive_pct": share(project_inclusive),
    }


def _short(path: str) -> str:
    return path.split("site-packages/", 1)[-1].removeprefix(str(ROOT) + "/")
