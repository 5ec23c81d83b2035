"""The measurements: timed rounds over every endpoint, the login storm with a /health
probe beside it, and p99 at about half of each endpoint's peak rate."""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.benchmarks import argon2_rate, cpu, wrk

PROBE_DELAY_MS = 10  # the /health probe: one connection, ~100 requests/s
HALF_RATE_PERIOD_S = 0.01  # paced connections each send one request per >= 10 ms
SETTLE_S = 1.0  # a pause before each run: the last run's queue drains, its sockets close
QUIET_CORES = 0.3  # before a run, wait (up to Plan.quiet_wait) until others use less


@dataclass
class Endpoint:
    name: str
    label: str
    target: wrk.Target
    server_pid: int
    refresh: Callable[[], None] | None = None  # called before each run (e.g. a new token)
    rounds: list[wrk.Result] = field(default_factory=list)
    half_rate: dict[str, object] | None = None


@dataclass
class Plan:
    workdir: Path
    database: str  # the scratch database: its backends' CPU is counted
    duration: float
    warmup: float
    rounds: int
    connections: int
    threads: int
    quiet_wait: float = 0.0  # seconds the whole run may spend waiting for a calmer machine

    def script(self, name: str) -> Path:
        return self.workdir / f"{name}.lua"


def add_quiet_wait(parser: argparse.ArgumentParser, before: str) -> None:
    """The --quiet-wait option: `before` says before what the harness waits."""
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300,
        metavar="SECONDS",
        help=f"on a shared machine: before {before}, wait while other "
        f"processes keep more than {QUIET_CORES} cores busy, up to this many "
        "seconds in all (default 300; 0: never wait)",
    )


def settle(plan: Plan) -> float:
    """Let the last run drain; then, on a shared machine, wait for other processes to quiet
    down, from a budget for the whole run (the seconds waited are returned and recorded)."""
    time.sleep(SETTLE_S)
    return wait_quiet(plan, SETTLE_S)


def wait_quiet(plan: Plan, sample: float) -> float:
    """While other processes keep more than QUIET_CORES busy (measured over `sample`
    seconds), wait, from the plan's budget; the seconds waited."""
    waited = 0.0
    while plan.quiet_wait > 0 and cpu.foreign_load(sample) > QUIET_CORES:
        waited += sample
        plan.quiet_wait -= sample
    return waited


def run(
    plan: Plan,
    endpoint: Endpoint,
    duration: float,
    connections: int,
    target: wrk.Target | None = None,
    beside: tuple[wrk.Target, list[wrk.Result]] | None = None,
) -> wrk.Result:
    """One wrk run, with the CPU each process spent per request; `beside` = (a probe, where
    its result goes): a second wrk, on one connection, for the same time."""
    if endpoint.refresh is not None:
        endpoint.refresh()
    waited = settle(plan)
    before = cpu.snapshot(endpoint.server_pid, plan.database)
    running = wrk.start(
        target or endpoint.target, plan.script(endpoint.name), duration, connections, plan.threads
    )
    if beside is not None:
        probe = wrk.start(beside[0], plan.script(endpoint.name + "-probe"), duration, 1, 1)
    result = wrk.finish(running, connections)
    result.cpu = cpu.usage(
        before, cpu.snapshot(endpoint.server_pid, plan.database), result.requests
    ) | {"quiet_wait_s": waited}
    if beside is not None:
        beside[1].append(wrk.finish(probe, 1))
    return result


def warm_up(plan: Plan, endpoints: list[Endpoint], say: Callable[[str], None]) -> None:
    for endpoint in endpoints:
        result = run(plan, endpoint, plan.warmup, plan.connections)
        say(f"  warm-up {endpoint.name}: {result.rps:,.0f} req/s")


def timed_rounds(
    plan: Plan,
    endpoints: list[Endpoint],
    login: str,
    health: wrk.Target,
    say: Callable[[str], None],
) -> dict[str, list]:
    """Every round runs every endpoint once, in turn, so slow drifts of the machine touch
    all of them alike. Before the login storm, the in-process argon2 verify rate is taken
    and the /health probe runs alone (the idle figure); then it runs beside the storm."""
    found: dict[str, list] = {"idle": [], "storm": [], "argon2": []}
    probe = wrk.Target(
        health.url, lua_settings=f"DELAY_MS = {PROBE_DELAY_MS}", scripts=("paced.lua",)
    )
    argon2_seconds = max(2.0, min(5.0, plan.duration / 2))
    for number in range(1, plan.rounds + 1):
        for endpoint in endpoints:
            if endpoint.name == login:
                settle(plan)
                found["argon2"].append(argon2_rate.measure(argon2_seconds))
                settle(plan)
                found["idle"].append(
                    wrk.run(probe, plan.script("health-idle"), plan.duration, 1, 1)
                )
                result = run(
                    plan, endpoint, plan.duration, plan.connections, beside=(probe, found["storm"])
                )
                say(
                    f"  round {number} argon2id verify/s: "
                    f"{found['argon2'][-1]['verify_per_s_1_thread']:.1f} on 1 thread, "
                    f"{found['argon2'][-1]['verify_per_s_2_threads']:.1f} on 2; /health p99 "
                    f"idle {found['idle'][-1].p99_ms:.2f} ms, during the login storm "
                    f"{found['storm'][-1].p99_ms:.2f} ms"
                )
            else:
                result = run(plan, endpoint, plan.duration, plan.connections)
            endpoint.rounds.append(result)
            say(
                f"  round {number} {endpoint.name}: {result.rps:,.0f} req/s, "
                f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, CPU {result.cpu}"
                + (f", {result.non_2xx} non-2xx" if result.non_2xx else "")
                + (f", {result.errors} socket errors" if result.errors else "")
            )
    return found


def half_rate(plan: Plan, endpoint: Endpoint, say: Callable[[str], None]) -> None:
    """p99 at about half the peak rate. wrk2 is not packaged, so wrk's `delay()` paces
    each connection (lua/paced.lua, randomised delays): rate ~ connections / (delay +
    latency). A short calibration run measures the latency at that load; the delay is
    corrected once from it. Still closed-loop: a connection waiting on a slow answer sends
    nothing meanwhile (coordinated omission), so this p99 is a lower bound."""
    peak = statistics.median(r.rps for r in endpoint.rounds)
    goal = peak / 2
    connections = max(4, min(128, math.ceil(goal * HALF_RATE_PERIOD_S)))
    connections += connections % 2
    period_ms = 1000 * connections / goal
    delay = max(0.0, round(period_ms - 1000 / peak, 2))
    trial = run(
        plan, endpoint, max(2.0, plan.duration / 2), connections, _paced(endpoint.target, delay)
    )
    latency_ms = max(0.0, 1000 * connections / max(trial.rps, 0.1) - delay)
    delay = max(0.0, round(period_ms - latency_ms, 2))
    result = run(plan, endpoint, plan.duration, connections, _paced(endpoint.target, delay))
    endpoint.half_rate = {
        "goal_rps": round(goal, 1),
        "connections": connections,
        "delay_ms": delay,
        **asdict(result),
    }
    say(
        f"  half rate {endpoint.name}: goal {goal:,.0f} req/s, got {result.rps:,.0f} "
        f"({connections} connections, ~{delay:g} ms apart), p99 {result.p99_ms:.2f} ms"
    )


def _paced(target: wrk.Target, delay_ms: float) -> wrk.Target:
    return wrk.Target(
        target.url,
        target.headers,
        f"{target.lua_settings}\nDELAY_MS = {delay_ms}",
        (*target.scripts, "paced.lua"),
    )
