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


def summarise(endpoints: list[Endpoint], found: dict[str, list], login: str) -> dict[str, object]:
    """Medians over the rounds; ratios are taken within each round, then their median."""
    reference = next(e for e in endpoints if e.name == REFERENCE)
    rows = []
    for endpoint in endpoints:
        ratios = [
            mine.rps / ref.rps for mine, ref in zip(endpoint.rounds, reference.rounds, strict=True)
        ]
        rows.append(
            {
                "name": endpoint.name,
                "endpoint": endpoint.label,
                "rps": median([r.rps for r in endpoint.rounds]),
                "p50_ms": median([r.p50_ms for r in endpoint.rounds]),
                "p99_ms": median([r.p99_ms for r in endpoint.rounds]),
                "ratio_to_fastapi": round(median(ratios), 4),
                "goal_ratio": GOALS.get(endpoint.name),
                "cpu": {
                    key: median([r.cpu[key] for r in endpoint.rounds])
                    for key in endpoint.rounds[0].cpu
                },
                "non_2xx": sum(r.non_2xx for r in endpoint.rounds),
                "socket_errors": sum(r.errors for r in endpoint.rounds),
                "rounds": [asdict(r) for r in endpoint.rounds],
                "half_rate": endpoint.half_rate,
            }
        )
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
            "verify_per_s_1_thread": median(one),
            "verify_per_s_2_threads": median(two),
            "share_of_1_thread": round(
                median([r.rps / a for r, a in zip(storm.rounds, one, strict=True)]), 3
            ),
            "share_of_2_threads": round(
                median([r.rps / a for r, a in zip(storm.rounds, two, strict=True)]), 3
            ),
            "goal_share": 0.9,
            "argon2_rounds": argon2,
        },
        "health_probe": {
            "rate": "one connection, a request every ~10 ms",
            "idle_p99_ms": idle,
            "storm_p99_ms": busy,
            "storm_p99_ms_worst_round": max(r.p99_ms for r in found["storm"]),
            "storm_over_idle": round(busy / idle, 2) if idle else None,
            "goal_ratio": 3.0,
            "idle": [asdict(r) for r in found["idle"]],
            "storm": [asdict(r) for r in found["storm"]],
        },
    }


def markdown(summary: dict[str, object]) -> str:
    lines = [
        "| endpoint | req/s | p50 ms | p99 ms | vs bare FastAPI | goal | "
        "p99 ms at ~½ peak (req/s) | CPU ms/req: server, PostgreSQL, Redis | "
        "other load (cores) | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["endpoints"]:
        half = row["half_rate"]
        half_text = f"{half['p99_ms']:.2f} ({half['rps']:,.0f})" if half else "-"
        goal = f"≥ {row['goal_ratio']:.0%}" if row["goal_ratio"] else ""
        cpu_text = ", ".join(f"{row['cpu'][key]:.2f}" for key in ("server", "postgres", "redis"))
        lines.append(
            f"| {row['endpoint']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['ratio_to_fastapi']:.1%} | {goal} | "
            f"{half_text} | {cpu_text} | {row['cpu']['foreign_cores']:.2f} | "
            f"{row['non_2xx'] + row['socket_errors']} |"
        )
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
        for title, key in (
            ("self time by package", "self_by_package_pct"),
            ("inclusive by package", "inclusive_by_package_pct"),
            ("self time by function", "self_by_function_pct"),
            ("Bookly functions, inclusive", "bookly_inclusive_pct"),
        ):
            top = ", ".join(f"{where} {pct}%" for where, pct in found[key][:8])
            lines.append(f"- {title}: {top}")
    return "\n".join(lines)


# The scale benchmark's goals: how much a page's p50 may grow from the smallest catalogue
# to the largest (first pages and cursor pages of every list; a substring search a little
# more), and the share of the write ceiling's requests/s each write route keeps.
SCALE_GROWTH_GOAL, SEARCH_GROWTH_GOAL, WRITE_GOAL = 2.0, 3.0, 0.40


def size_label(books: int) -> str:
    for unit, name in ((1_000_000, "M"), (1_000, "k")):
        if books >= unit and books % unit == 0:
            return f"{books // unit}{name}"
    return f"{books:,}"


def growth_goal(request: str, page: str) -> float | None:
    if page not in ("first", "cursor"):
        return None
    return SEARCH_GROWTH_GOAL if "q=" in request else SCALE_GROWTH_GOAL


def scale_markdown(sizes: list[dict[str, object]]) -> str:
    lines = [_builds(sizes)]
    measured = [size for size in sizes if size.get("reads")]
    if measured:
        lines += ["", _reads(measured)]
    for size in measured:
        if size.get("writes"):
            lines += ["", _writes(size)]
    return "\n".join(lines)


def _builds(sizes: list[dict[str, object]]) -> str:
    lines = [
        "| catalogue | database | built in (s) | steps (s) | size |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for size in sizes:
        build = size.get("build")
        if build is None:
            lines.append(f"| {size_label(size['books'])} | {size['database']} | reused | | |")
            continue
        steps = ", ".join(
            f"{step} {seconds:g}"
            for step, seconds in {"migrate": build["migrate_seconds"], **build["steps"]}.items()
        )
        lines.append(
            f"| {size_label(size['books'])} | {size['database']} | "
            f"{build['seconds']:.0f} | {steps} | {build['size']} |"
        )
    return "\n".join(lines)


def _reads(sizes: list[dict[str, object]]) -> str:
    """p50 at each size, and the growth from the smallest to the largest."""
    labels = [size_label(size["books"]) for size in sizes]
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    for size, label in zip(sizes, labels, strict=True):
        for row in size["reads"]:
            rows.setdefault((row["request"], row["page"]), {})[label] = row
    small, large = labels[0], labels[-1]
    lines = [
        "| request | page | "
        + " | ".join(f"p50 ms {label}" for label in labels)
        + f" | growth {large}/{small} | goal | p90 ms {large} | total {large} | "
        f"other load {large} (cores) |",
        "| --- | --- | " + "---: | " * len(labels) + "---: | ---: | ---: | ---: | ---: |",
    ]
    for (request, page), by_size in rows.items():
        p50 = [by_size.get(label, {}).get("p50_ms") for label in labels]
        cells = [f"{value:.2f}" if value is not None else "n/a" for value in p50]
        grew = f"{p50[-1] / p50[0]:.1f}x" if p50[0] and p50[-1] is not None else "n/a"
        goal = growth_goal(request, page)
        goal_text = f"≤ {goal:g}x" if goal else ""
        last = by_size.get(large, {})
        total = last.get("total")
        total_text = (
            ""
            if total is None
            else (f"{total:,}" + (" (bound)" if last.get("total_exact") is False else ""))
        )
        bad = {s: n for s, n in last.get("statuses", {}).items() if int(s) != 200}
        p90 = f"{last['p90_ms']:.2f}" if "p90_ms" in last else "n/a"
        other = f"{last['cpu']['foreign_cores']:.2f}" if "cpu" in last else ""
        lines.append(
            f"| {request} | {page or 'detail'} | {' | '.join(cells)} | {grew} | "
            f"{goal_text} | {p90}"
            f"{' (status ' + str(bad) + ')' if bad else ''} | {total_text} | "
            f"{other} |"
        )
    return "\n".join(lines)


def _writes(size: dict[str, object]) -> str:
    writes = size["writes"]
    goal = f"≥ {WRITE_GOAL:.0%}"
    lines = [
        f"Writes at {size_label(size['books'])} books (wrk, keep-alive clients):",
        "",
        "| route | clients | req/s | p50 ms | p99 ms | vs ceiling | goal | "
        "CPU ms/req: server, PostgreSQL | other load (cores) | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for point in sorted(
        writes["points"], key=lambda p: (p["route"] != "ceiling", p["route"], p["clients"])
    ):
        ceiling = point["route"] == "ceiling"
        cpu = point["cpu"]
        lines.append(
            f"| {writes['routes'][point['route']]} | {point['clients']} | "
            f"{point['rps']:,.0f} | {point['p50_ms']:.2f} | {point['p99_ms']:.2f} | "
            f"{'' if ceiling else format(point['ratio_to_ceiling'], '.0%')} | "
            f"{'' if ceiling else goal} | "
            f"{cpu['server']:.2f}, {cpu['postgres']:.2f} | "
            f"{cpu['foreign_cores']:.2f} | "
            f"{point['non_2xx'] + point['socket_errors']} |"
        )
    return "\n".join(lines)
