"""The benchmark harness of issue 8, in one command (from the repository's root):

    .venv/bin/python -m tests.benchmarks.run [--duration 10] [--rounds 3] [--quick] [--profile]

It creates a scratch PostgreSQL database (dropped at the end), migrates it, loads the
fixed dataset, starts `bookly serve --workers 1` (PostgreSQL + Redis, rate limits off,
JSON logs to a file) and the two reference apps on the same uvicorn settings, drives every
endpoint with wrk, and prints a markdown table; the numbers go to
tests/benchmarks/results/<timestamp>.json, the logs to tests/benchmarks/results/<timestamp>/.
Needs wrk (Debian: `apt-get install -y wrk`), PostgreSQL and Redis
(BOOKLY_TEST_POSTGRES_DSN, BOOKLY_TEST_REDIS_URL, as the tests)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from tests.benchmarks import cpu, measure, report, wrk
from tests.benchmarks.session import REFERENCES, Session

RESULTS = Path(__file__).resolve().parent / "results"
BUSY_CORES = 0.3  # other processes' load above which the run warns


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per endpoint")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 s runs, 2 rounds, 2 s warm-up (a few minutes in all)",
    )
    measure.add_quiet_wait(parser, "a run")
    parser.add_argument(
        "--no-half-rate",
        action="store_true",
        help="skip p99 at about half of each endpoint's peak rate",
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated endpoints to measure (e.g. auth_me,book_detail;"
        " auth_login is the login storm); the two reference apps always run",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also record py-spy profiles of the service's endpoints",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 5, 2, 2
    return args


def environment() -> dict[str, object]:
    packages = (
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "sqlalchemy",
        "asyncpg",
        "redis",
        "argon2-cffi",
        "structlog",
        "dependency-injector",
    )
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk.wrk_version(),
        "packages": {name: version(name) for name in packages},
    }


def code_version() -> dict[str, object]:
    """Which code was measured: the commit, and the files changed but not committed."""
    import entrypoints

    root = Path(entrypoints.__file__).resolve().parents[1]

    def git(*command: str) -> str | None:
        done = subprocess.run(
            ["git", "-C", str(root), *command], capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip() if done.returncode == 0 else None

    changed = git("status", "--porcelain", "--", ".", ":(exclude)tests/benchmarks")
    return {
        "root": str(root),
        "commit": git("rev-parse", "HEAD"),
        "uncommitted": changed.splitlines() if changed else [],
    }


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    wrk.require_wrk()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = RESULTS / stamp
    workdir.mkdir(parents=True)
    started = time.monotonic()
    foreign = cpu.foreign_load()
    if foreign > BUSY_CORES:
        say(
            f"warning: other processes keep {foreign:.1f} of {os.cpu_count()} cores busy; "
            "expect noisy numbers (see the 'other load' column)"
        )
    with Session(workdir, say) as session:
        plan = measure.Plan(
            workdir,
            session.name,
            args.duration,
            args.warmup,
            args.rounds,
            args.connections,
            args.threads,
            args.quiet_wait,
        )
        endpoints = session.endpoints()
        if args.only:
            wanted = set(args.only.split(",")) | set(REFERENCES)
            unknown = wanted - {e.name for e in endpoints}
            if unknown:
                raise SystemExit(f"benchmarks: no endpoint {', '.join(sorted(unknown))}")
            endpoints = [e for e in endpoints if e.name in wanted]
        session.check(endpoints)
        say("warm-up ...")
        measure.warm_up(plan, endpoints, say)
        say(
            f"{args.rounds} timed rounds of {args.duration:g} s, {args.connections} "
            f"connections, {args.threads} threads ..."
        )
        found = measure.timed_rounds(plan, endpoints, "auth_login", session.health(), say)
        if not args.no_half_rate:
            say("p99 at about half of each peak rate ...")
            for endpoint in endpoints:
                measure.half_rate(plan, endpoint, say)
        summary = report.summarise(endpoints, found, "auth_login")
        profiles = session.profile(plan, endpoints, say) if args.profile else {}
        dataset = session.loaded
    result = {
        "timestamp": stamp,
        "command": " ".join(["python -m tests.benchmarks.run", *(argv or sys.argv[1:])]),
        "settings": {k: v for k, v in vars(args).items()},
        "code": code_version(),
        "machine": {**environment(), "foreign_cores_at_start": foreign},
        "dataset": dataset,
        **summary,
        "profiles": profiles,
        "wall_seconds": round(time.monotonic() - started, 1),
        "logs": str(workdir.relative_to(RESULTS.parents[2])),
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(report.markdown(summary))
    if profiles:
        print(report.profile_markdown(profiles))
    print(
        f"\nResults: {path.relative_to(RESULTS.parents[2])} ({result['wall_seconds']:.0f} s in all)"
    )


if __name__ == "__main__":
    main()
