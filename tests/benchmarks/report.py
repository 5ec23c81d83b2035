"""The table (markdown, on standard output) and the JSON file of a run."""

from __future__ import annotations

import statistics
from dataclasses import asdict

from tests.benchmarks.measure import Endpoint

REFERENCE = "fastapi"
# The goals, as shares of the bare FastAPI route's requests/s (same run).
GOALS = {"book_detail": 0.25, "book_list": 0.15, "book_tag_list": 0.12, "auth_me": 0.50}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


def summarise(endpoints: list[Endpoint], found: dict[str, list],
              login: str) -> dict[str, object]:
    """Medians over the rounds; ratios are taken within each round, then their median."""
    reference = next(e for e in endpoints if e.name == REFERENCE)
    rows = []
    for endpoint in endpoints:
        ratios = [mine.rps / ref.rps for mine, ref in zip(endpoint.rounds, reference.rounds,
                                                          strict=True)]
        rows.append({
            "name": endpoint.name, "endpoint": endpoint.label,
            "rps": median([r.rps for r in endpoint.rounds]),
            "p50_ms": median([r.p50_ms for r in endpoint.rounds]),
            "p99_ms": median([r.p99_ms for r in endpoint.rounds]),
            "ratio_to_fastapi": round(median(ratios), 4),
            "goal_ratio": GOALS.get(endpoint.name),
            "cpu": {key: median([r.cpu[key] for r in endpoint.rounds])
                    for key in endpoint.rounds[0].cpu},
            "non_2xx": sum(r.non_2xx for r in endpoint.rounds),
            "socket_errors": sum(r.errors for r in endpoint.rounds),
            "rounds": [asdict(r) for r in endpoint.rounds],
            "half_rate": endpoint.half_rate,
        })
    rows_only = {"endpoints": rows}
    storm = next((e for e in endpoints if e.name == login), None)
    if storm is None:  # --only without the login storm
        return rows_only
    argon2 = found["argon2"]
    one = [a["verify_per_s_1_thread"] for a in argon2]
    two = [a["verify_per_s_2_threads"] for a in argon2]
    idle, busy = (median([r.p99_ms for r in found[k]]) for k in ("idle", "storm"))
    return {
        **rows_only,
        "login": {
            "rps": median([r.rps for r in storm.rounds]),
            "parameters": argon2[0]["parameters"],
            "verify_per_s_1_thread": median(one), "verify_per_s_2_threads": median(two),
            "share_of_1_thread": round(median([r.rps / a for r, a in zip(storm.rounds, one,
                                                                         strict=True)]), 3),
            "share_of_2_threads": round(median([r.rps / a for r, a in zip(storm.rounds, two,
                                                                          strict=True)]), 3),
            "goal_share": 0.9, "argon2_rounds": argon2},
        "health_probe": {
            "rate": "one connection, a request every ~10 ms",
            "idle_p99_ms": idle, "storm_p99_ms": busy,
            "storm_p99_ms_worst_round": max(r.p99_ms for r in found["storm"]),
            "storm_over_idle": round(busy / idle, 2) if idle else None, "goal_ratio": 3.0,
            "idle": [asdict(r) for r in found["idle"]],
            "storm": [asdict(r) for r in found["storm"]]},
    }


def markdown(summary: dict[str, object]) -> str:
    lines = ["| endpoint | req/s | p50 ms | p99 ms | vs bare FastAPI | goal | "
             "p99 ms at ~½ peak (req/s) | CPU ms/req: server, PostgreSQL, Redis | "
             "other load (cores) | errors |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in summary["endpoints"]:
        half = row["half_rate"]
        half_text = f"{half['p99_ms']:.2f} ({half['rps']:,.0f})" if half else "-"
        goal = f"≥ {row['goal_ratio']:.0%}" if row["goal_ratio"] else ""
        cpu_text = ", ".join(f"{row['cpu'][key]:.2f}" for key in ("server", "postgres", "redis"))
        lines.append(f"| {row['endpoint']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
                     f"{row['p99_ms']:.2f} | {row['ratio_to_fastapi']:.1%} | {goal} | "
                     f"{half_text} | {cpu_text} | {row['cpu']['foreign_cores']:.2f} | "
                     f"{row['non_2xx'] + row['socket_errors']} |")
    if "login" not in summary:
        return "\n".join(lines)
    login, probe = summary["login"], summary["health_probe"]
    params = login["parameters"]
    lines += [
        "",
        f"Login: {login['rps']:,.1f} req/s; in-process argon2id verify "
        f"(t={params['time_cost']}, m={params['memory_cost']} KiB, p={params['parallelism']}) "
        f"of {login['verify_per_s_1_thread']:,.1f}/s on 1 thread and "
        f"{login['verify_per_s_2_threads']:,.1f}/s on 2 threads (same rounds); login is "
        f"{login['share_of_1_thread']:.0%} and {login['share_of_2_threads']:.0%} of those "
        "(goal ≥ 90 %).",
        f"/health p99 ({probe['rate']}): idle {probe['idle_p99_ms']:.2f} ms, during the "
        f"login storm {probe['storm_p99_ms']:.2f} ms (worst round "
        f"{probe['storm_p99_ms_worst_round']:.2f} ms): {probe['storm_over_idle']}x idle "
        "(goal < 3x).",
    ]
    return "\n".join(lines)


def profile_markdown(profiles: dict[str, dict[str, object]]) -> str:
    lines = []
    for name, found in profiles.items():
        lines.append(f"\nProfile of {name} ({found['samples']} samples, py-spy):")
        for title, key in (("self time by package", "self_by_package_pct"),
                           ("inclusive by package", "inclusive_by_package_pct"),
                           ("self time by function", "self_by_function_pct"),
                           ("Bookly functions, inclusive", "bookly_inclusive_pct")):
            top = ", ".join(f"{where} {pct}%" for where, pct in found[key][:8])
            lines.append(f"- {title}: {top}")
    return "\n".join(lines)
