"""The scale benchmark, in one command (from the repository's root):

    .venv/bin/python -m tests.benchmarks.scale [--sizes 10000,1000000] [--keep] [--reuse]

For each size it builds a catalogue (tests/benchmarks/catalogue.py) in a scratch PostgreSQL
database migrated to the code's head, loaded with COPY; starts `bookly serve --workers 1`
on it (PostgreSQL + Redis, production settings, rate limits off) and times the catalogue's
reads one request after another (first page, a page at half the list's length by offset,
and the page after it by cursor, where the API gives one); on the sizes of --writes-at it
then drives `POST /books` and `POST /books/{uid}/reviews` with wrk at several client counts
beside a bare FastAPI + asyncpg route that adds the same book (the write ceiling).
The tables go to standard output, the numbers to tests/benchmarks/results/scale-<time>.json,
the servers' logs to tests/benchmarks/results/scale-<time>/.

Building a large catalogue takes minutes: --keep keeps each one, named after its
parameters and the schema's head revision, and --reuse takes a kept one instead of
building it again (and keeps it). Needs wrk (Debian: `apt-get install -y wrk`), PostgreSQL
and Redis (BOOKLY_TEST_POSTGRES_DSN, BOOKLY_TEST_REDIS_URL, as the tests)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import math
import statistics
import sys
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from alembic.script import ScriptDirectory

from migrations import SCRIPT_LOCATION, alembic_config, upgrade_to_head
from tests.benchmarks import bulk, catalogue, cpu, databases, measure, report, servers, wrk
from tests.benchmarks.load import password_hash
from tests.benchmarks.reference_apps import CEILING_TABLE
from tests.benchmarks.run import RESULTS, code_version, environment, say
from tests.benchmarks.sequential import Budget, Client, time_path
from tests.live_service import log_in
from tests.services import REDIS_URL, asyncpg_url

KEPT = "bookly_scale_"  # kept catalogues: bookly_scale_<books>_r<head>_<digest>
SCRATCH = "bookly_scratch_scale"
API = "/api/v1"
PAGE = 20
BOOK_BODY = json.dumps(
    {
        "title": "The Scale Of Things",
        "author": "Ada Lovelace",
        "publisher": "Northwind Press",
        "published_date": "2001-02-03",
        "page_count": 321,
        "language": "en",
    }
)
REVIEW_BODY = json.dumps({"rating": 4, "review_text": "Steady, useful, and a little long."})
MOST_WRITES_PER_S = 3000  # for sizing the review pairs: more than any run here reaches


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="10000,1000000",
        help="catalogue sizes in books, comma-separated (default 10000,1000000)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the catalogues built (named after their parameters and the "
        "schema's head revision) instead of dropping them at the end",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take a kept catalogue when there is one (and keep it); implies --keep",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build (or find) the catalogues and stop; with --keep, for "
        "working on the database by hand",
    )
    parser.add_argument(
        "--index-build",
        choices=("after", "during"),
        default="after",
        help="after: drop the loaded tables' indexes and keys, COPY, make them "
        "again (default); during: COPY into the indexed tables",
    )
    parser.add_argument(
        "--only",
        metavar="TEXT",
        help="time only the reads whose request contains one of these "
        "comma-separated texts (e.g. 'sort=title,q=alpha')",
    )
    parser.add_argument(
        "--samples", type=int, default=200, help="timed requests per read, at most (default 200)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="time per read, at most, once --least samples are in (default 3)",
    )
    parser.add_argument(
        "--least", type=int, default=15, help="timed requests per read, at least (default 15)"
    )
    parser.add_argument(
        "--writes-at",
        default="largest",
        metavar="SIZES",
        help="sizes whose writes are measured: comma-separated, 'largest' "
        "(default), 'all' or 'none'",
    )
    parser.add_argument(
        "--clients", default="1,4,16", help="concurrent writers, comma-separated (default 1,4,16)"
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per write run")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per write route")
    parser.add_argument("--rounds", type=int, default=1, help="timed write rounds")
    measure.add_quiet_wait(parser, "each read and each write run")
    parser.add_argument(
        "--drop-kept",
        action="store_true",
        help="drop every kept catalogue (bookly_scale_*) and stop",
    )
    args = parser.parse_args(argv)
    args.keep = args.keep or args.reuse
    args.sizes = [int(size) for size in args.sizes.split(",")]
    args.clients = [int(count) for count in args.clients.split(",")]
    writes = {"largest": [max(args.sizes)], "all": args.sizes, "none": []}
    args.writes_at = (
        writes[args.writes_at]
        if args.writes_at in writes
        else [int(size) for size in args.writes_at.split(",")]
    )
    return args


# --- the catalogues -------------------------------------------------------------------


@dataclass
class Stored:
    name: str
    shape: catalogue.Shape
    kept: bool
    build: dict[str, object] | None  # None: reused


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def kept_name(shape: catalogue.Shape) -> str:
    """The catalogue's parameters and the code that makes its rows (shape.fingerprint), and
    the schema: its head revision and the migrations' text (a revision edited in place)."""
    digest = hashlib.sha256(shape.fingerprint().encode())
    for path in sorted((SCRIPT_LOCATION / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return f"{KEPT}{shape.books}_r{head_revision()}_{digest.hexdigest()[:8]}"


def obtain(shape: catalogue.Shape, args: argparse.Namespace) -> Stored:
    """A catalogue of this shape: a kept one (--reuse), or a new one, built under a scratch
    name and renamed only once complete (--keep), so that no half-built one is reused."""
    kept = kept_name(shape)
    if args.reuse and databases.exists(kept):
        say(f"{shape.books:,} books: reusing {kept}")
        return Stored(kept, shape, True, None)
    name = databases.scratch_name(SCRATCH)
    say(f"{shape.books:,} books: building {name} ...")
    databases.create(name)
    try:
        build = build_catalogue(name, shape, args.index_build == "after")
        if args.keep:
            databases.drop(kept)
            databases.rename(name, kept)
            name = kept
    except BaseException:
        databases.drop(name)
        raise
    kept_as = f"; kept as {name}" if args.keep else ""
    say(f"  built in {build['seconds']:.0f} s ({build['size']}){kept_as}")
    return Stored(name, shape, args.keep, build)


def build_catalogue(name: str, shape: catalogue.Shape, rebuild_indexes: bool) -> dict[str, object]:
    dsn = databases.dsn_of(name)
    started = time.perf_counter()
    upgrade_to_head(asyncpg_url(dsn))
    migrated = time.perf_counter() - started
    loaded = asyncio.run(
        bulk.load(dsn, catalogue.Catalogue(shape, password_hash()), rebuild_indexes, say)
    )
    size = asyncio.run(fetch(dsn, "SELECT pg_size_pretty(pg_database_size(current_database()))"))
    return {
        **loaded,
        "migrate_seconds": round(migrated, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "size": size[0][0],
        "head_revision": head_revision(),
    }


async def fetch(dsn: str, statement: str, *arguments: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetch(statement, *arguments)
    finally:
        await connection.close()


FACTS = {  # found in the database, so that a kept catalogue needs no generator
    "books": "SELECT count(*) FROM books",
    "reviews": "SELECT count(*) FROM reviews",
    "users": "SELECT count(*) FROM users",
    "prolific_owner": "SELECT owner_uid FROM books GROUP BY owner_uid "
    "ORDER BY count(*) DESC LIMIT 1",
    "prolific_author": "SELECT author FROM books GROUP BY author "
    "ORDER BY count(*) DESC, author LIMIT 1",
    "hot_book": "SELECT book_uid FROM reviews GROUP BY book_uid ORDER BY count(*) DESC LIMIT 1",
    "prolific_reviewer": "SELECT user_uid FROM reviews GROUP BY user_uid "
    "ORDER BY count(*) DESC LIMIT 1",
    "typical_book": "SELECT book_uid FROM reviews GROUP BY book_uid HAVING count(*) = 2 "
    "ORDER BY book_uid LIMIT 1",
    "common_tag_books": "SELECT count(*) FROM book_tags bt JOIN tags t ON t.uid = bt.tag_uid "
    f"WHERE t.name = '{catalogue.COMMON_TAG}'",
}


POSTGRES_SETTINGS = (
    "server_version",
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "jit_above_cost",
    "max_parallel_workers_per_gather",
)


def postgres_settings(name: str) -> dict[str, str]:
    """The server's settings that bear on plans, as the catalogue's database sees them."""
    rows = asyncio.run(
        fetch(
            databases.dsn_of(name),
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY($1::text[])",
            list(POSTGRES_SETTINGS),
        )
    )
    return {row[0]: row[1] for row in rows}


def facts_of(name: str) -> dict[str, object]:
    async def find() -> dict[str, object]:
        connection = await asyncpg.connect(databases.dsn_of(name))
        try:
            return {key: await connection.fetchval(query) for key, query in FACTS.items()}
        finally:
            await connection.close()

    found = asyncio.run(find())
    return {**found, "common_tag": catalogue.COMMON_TAG}


# --- reads ----------------------------------------------------------------------------


@dataclass
class Read:
    label: str  # how the table names it
    path: str  # the path template, as in the OpenAPI document
    query: dict[str, str]
    actual: str  # the path with its ids
    admin: bool = False
    is_list: bool = True


def reads(facts: dict[str, object]) -> list[Read]:
    tag, author = facts["common_tag"], facts["prolific_author"]
    owner, reviewer, hot = facts["prolific_owner"], facts["prolific_reviewer"], facts["hot_book"]
    books = f"{API}/books"

    def listing(
        label: str,
        query: dict[str, str],
        path: str = books,
        actual: str = books,
        admin: bool = False,
    ) -> Read:
        return Read(label, path, {**query, "limit": str(PAGE)}, actual, admin)

    return [
        Read(
            "/books/{typical book}",
            f"{books}/{{uid}}",
            {},
            f"{books}/{facts['typical_book']}",
            is_list=False,
        ),
        Read("/books/{hot book}", f"{books}/{{uid}}", {}, f"{books}/{hot}", is_list=False),
        listing("/books", {}),
        listing("/books?sort=title", {"sort": "title"}),
        listing("/books?sort=-rating", {"sort": "-rating"}),
        listing("/books?sort=rating", {"sort": "rating"}),
        listing("/books?sort=created_at", {"sort": "created_at"}),
        listing("/books?q=alpha", {"q": catalogue.SEARCH_WORD}),
        listing("/books?tag={common}&sort=-rating", {"tag": tag, "sort": "-rating"}),
        listing(
            "/books?tag={common}&language=fr&sort=title",
            {"tag": tag, "language": "fr", "sort": "title"},
        ),
        listing("/books?language=fr", {"language": "fr"}),
        listing("/books?author={prolific}", {"author": author}),
        listing("/books?owner_uid={prolific}", {"owner_uid": str(owner)}),
        listing(
            "/users/{prolific owner}/books",
            {},
            f"{API}/users/{{uid}}/books",
            f"{API}/users/{owner}/books",
        ),
        listing(
            "/users/{prolific reviewer}/reviews",
            {},
            f"{API}/users/{{uid}}/reviews",
            f"{API}/users/{reviewer}/reviews",
        ),
        listing(
            "/books/{hot book}/reviews", {}, f"{books}/{{uid}}/reviews", f"{books}/{hot}/reviews"
        ),
        listing("/reviews (admin)", {}, f"{API}/reviews", f"{API}/reviews", admin=True),
        listing("/users (admin)", {}, f"{API}/users", f"{API}/users", admin=True),
        listing("/tags", {}, f"{API}/tags", f"{API}/tags"),
    ]


def offset_maxima(client: Client) -> dict[str, float]:
    """Each list's largest `offset`, as the OpenAPI document states it (none: no bound)."""
    answer = client.get(f"{API}/openapi.json")
    if answer.status != 200:
        return {}
    document = answer.json()
    found = {}
    for path, operations in document["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["name"] == "offset":
                found[path] = parameter.get("schema", {}).get("maximum", math.inf)
    return found


def url(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urllib.parse.urlencode(query)}" if query else path


def measure_reads(
    server: servers.Server, facts: dict[str, object], args: argparse.Namespace, plan: measure.Plan
) -> list[dict[str, object]]:
    """Every read: its first page, the page at half its length by offset (capped by the
    API's largest offset), and the page after that one by its `next_cursor` ("n/a" when the
    API gives none)."""
    client = Client(server.base)
    budget = Budget(most=args.samples, least=args.least, seconds=args.seconds)
    maxima = offset_maxima(client)
    rows: list[dict[str, object]] = []

    def headers(read: Read) -> dict[str, str]:
        """The admin's reads log in afresh each time: a slow run outlives an access token."""
        if not read.admin:
            return {}
        token = log_in(server.base, catalogue.email(catalogue.ADMIN), catalogue.PASSWORD)
        return {"Authorization": f"Bearer {token}"}

    def timed(read: Read, page: str, path: str, **extra: object) -> None:
        waited = measure.wait_quiet(plan, 0.5)
        timing = time_path(client, path, headers(read), budget, server.process.pid, plan.database)
        row = {
            "request": read.label,
            "page": page,
            "path": path,
            **timing.summary(),
            "quiet_wait_s": waited,
            **extra,
        }
        rows.append(row)
        statuses = ", ".join(f"{n}x{status}" for status, n in timing.statuses.items())
        say(
            f"  {read.label} {page}: p50 {timing.p50_ms:.2f} ms, p90 {timing.p90_ms:.2f} ms "
            f"({statuses})"
        )

    wanted = args.only.split(",") if args.only else None
    for read in reads(facts):
        if wanted and not any(text in read.label for text in wanted):
            continue
        first_path = url(read.actual, read.query)
        if not read.is_list:
            timed(read, "", first_path)
            continue
        first = client.get(first_path, headers(read))
        if first.status != 200:
            timed(read, "first", first_path)
            continue
        page = first.json()
        total = page["total"]
        timed(read, "first", first_path, total=total, total_exact=page.get("total_exact"))
        offset = int(min(total // 2, maxima.get(read.path, math.inf)))
        deep_path = url(read.actual, {**read.query, "offset": str(offset)})
        timed(read, "offset", deep_path, offset=offset)
        deep = client.get(deep_path, headers(read))
        cursor = deep.json().get("next_cursor") if deep.status == 200 else None
        if cursor is None:
            rows.append(
                {
                    "request": read.label,
                    "page": "cursor",
                    "path": None,
                    "n/a": "no next_cursor in the offset page's answer",
                }
            )
            continue
        timed(
            read,
            "cursor",
            url(read.actual, {"cursor": cursor, "limit": str(PAGE)}),
            offset=offset + PAGE,
        )
    client.close()
    return rows


# --- writes ---------------------------------------------------------------------------


def review_pairs(name: str, writers: int, count: int, path: Path) -> int:
    """`count` (writer, book) pairs, none reviewed yet (the writers have no reviews), as
    lines for lua/review.lua; fewer if the catalogue has fewer books than that."""
    per_writer = math.ceil(count / writers)
    rows = asyncio.run(
        fetch(
            databases.dsn_of(name),
            "SELECT uid FROM books ORDER BY md5(uid::text) LIMIT $1",
            per_writer,
        )
    )
    lines = [f"{writer} {row[0]}\n" for writer in range(1, writers + 1) for row in rows]
    path.write_text("".join(lines[:count]))
    return min(count, len(lines))


def measure_writes(
    stored: Stored,
    args: argparse.Namespace,
    workdir: Path,
    plan: measure.Plan,
    quiet_left: list[float],
) -> dict[str, object]:
    """Each route at each client count, in turn, every round. A kept catalogue is written
    in a copy of it (dropped after), so it stays as built."""
    name = databases.scratch_name(SCRATCH) if stored.kept else stored.name
    if stored.kept:
        say(f"  copying {stored.name} for the writes ...")
        databases.create(name, template=stored.name)
    prefix = databases.redis_prefix("bookly-scale")
    dsn = databases.dsn_of(name)
    workdir.mkdir()
    plan = dataclasses.replace(plan, workdir=workdir, database=name)
    with ExitStack() as stack:
        stack.callback(databases.delete_keys, prefix)
        if stored.kept:
            stack.callback(databases.drop, name)
        else:
            stack.callback(lambda: asyncio.run(fetch(dsn, f"DROP TABLE {CEILING_TABLE}")))
        asyncio.run(fetch(dsn, f"CREATE TABLE {CEILING_TABLE} (LIKE books INCLUDING ALL)"))
        needed = (
            MOST_WRITES_PER_S
            * (args.warmup + args.duration * args.rounds)
            * len(args.clients)
            * plan.threads
        )
        pairs_file = workdir / "review-pairs.txt"
        pairs = review_pairs(name, catalogue.WRITERS, int(needed), pairs_file)
        bookly = servers.start_bookly(
            workdir, servers.bookly_settings(asyncpg_url(dsn), REDIS_URL, prefix, workdir)
        )
        stack.callback(bookly.stop)
        ceiling = servers.start_reference("write", workdir, "--dsn", dsn)
        stack.callback(ceiling.stop)
        tokens = [
            log_in(bookly.base, email, catalogue.PASSWORD) for email in catalogue.writer_emails()
        ]
        api = bookly.base + API
        routes = [
            measure.Endpoint(
                "ceiling",
                "bare FastAPI + asyncpg: POST /books (write ceiling)",
                wrk.Target(
                    ceiling.base + "/books", lua_settings=_body(BOOK_BODY), scripts=("post.lua",)
                ),
                ceiling.process.pid,
            ),
            measure.Endpoint(
                "create_book",
                "POST /api/v1/books",
                wrk.Target(
                    f"{api}/books",
                    {"Authorization": f"Bearer {tokens[0]}"},
                    _body(BOOK_BODY),
                    ("post.lua",),
                ),
                bookly.process.pid,
            ),
            measure.Endpoint(
                "create_review",
                "POST /api/v1/books/{uid}/reviews",
                wrk.Target(api),
                bookly.process.pid,
            ),
        ]
        review = routes[2].target
        start = 0

        def drive(route: measure.Endpoint, seconds: float, clients: int) -> wrk.Result:
            nonlocal start
            threads = min(plan.threads, clients)
            if route is routes[2]:
                review.lua_settings = "\n".join(
                    [
                        _body(REVIEW_BODY),
                        f'PAIRS = "{pairs_file}"',
                        f"START = {start}",
                        f"THREADS = {threads}",
                        f'PREFIX = "{API}/books/"',
                        "TOKENS = {" + ", ".join(f'"{token}"' for token in tokens) + "}",
                    ]
                )
                review.scripts = ("review.lua",)
            result = measure.run(plan, route, seconds, clients)
            if route is routes[2]:
                # A thread may have sent every request of the run, and one per client
                # more that was cut off: past the pairs of the busiest thread, then.
                start += threads * (result.requests + clients)
            return result

        for route in routes:
            result = drive(route, args.warmup, max(args.clients))
            say(f"  warm-up {route.name}: {result.rps:,.0f} req/s")
        found: dict[str, dict[int, list[wrk.Result]]] = {r.name: {} for r in routes}
        for number in range(1, args.rounds + 1):
            for clients in args.clients:
                for route in routes:
                    result = drive(route, args.duration, clients)
                    found[route.name].setdefault(clients, []).append(result)
                    say(
                        f"  round {number}, {clients} clients, {route.name}: "
                        f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
                        f"p99 {result.p99_ms:.2f} ms"
                        + (f", {result.non_2xx} non-2xx" if result.non_2xx else "")
                        + (f", {result.errors} socket errors" if result.errors else "")
                    )
        if start > pairs:
            say(
                f"  warning: {start:,} review requests for {pairs:,} pairs: some were repeats (409)"
            )
    quiet_left[0] = plan.quiet_wait
    return {
        "database": name,
        "review_pairs": pairs,
        "routes": {route.name: route.label for route in routes},
        "points": _write_points(found, "ceiling"),
    }


def _body(body: str) -> str:
    return f"BODY = [[{body}]]"


def _write_points(
    found: dict[str, dict[int, list[wrk.Result]]], ceiling: str
) -> list[dict[str, object]]:
    """Medians over the rounds; each ratio to the ceiling is taken within its round."""
    points = []
    for route, by_clients in found.items():
        for clients, results in by_clients.items():
            ratios = [
                mine.rps / bare.rps
                for mine, bare in zip(results, found[ceiling][clients], strict=True)
            ]
            points.append(
                {
                    "route": route,
                    "clients": clients,
                    "rps": report.median([r.rps for r in results]),
                    "p50_ms": report.median([r.p50_ms for r in results]),
                    "p99_ms": report.median([r.p99_ms for r in results]),
                    "ratio_to_ceiling": round(statistics.median(ratios), 4),
                    "cpu": {
                        key: report.median([r.cpu[key] for r in results]) for key in results[0].cpu
                    },
                    "non_2xx": sum(r.non_2xx for r in results),
                    "socket_errors": sum(r.errors for r in results),
                    "requests": sum(r.requests for r in results),
                }
            )
    return points


# --- one size, the whole run ----------------------------------------------------------


def measure_size(
    stored: Stored, args: argparse.Namespace, workdir: Path, quiet: list[float]
) -> dict[str, object]:
    """Reads (and, at the sizes of --writes-at, writes) on one catalogue; `quiet` holds
    the run's remaining --quiet-wait budget."""
    workdir.mkdir(parents=True)
    facts = facts_of(stored.name)
    say(f"{stored.shape.books:,} books ({stored.name}): {facts}")
    prefix = databases.redis_prefix("bookly-scale")
    settings = servers.bookly_settings(
        asyncpg_url(databases.dsn_of(stored.name)), REDIS_URL, prefix, workdir
    )
    plan = measure.Plan(
        workdir,
        stored.name,
        args.duration,
        args.warmup,
        args.rounds,
        max(args.clients),
        2,
        quiet[0],
    )
    server = servers.start_bookly(workdir, settings)
    try:
        rows = measure_reads(server, facts, args, plan)
    finally:
        server.stop()
        databases.delete_keys(prefix)
    writes = None
    if stored.shape.books in args.writes_at:
        say(f"{stored.shape.books:,} books: writes ...")
        quiet[0] = plan.quiet_wait
        writes = measure_writes(stored, args, workdir / "writes", plan, quiet)
    else:
        quiet[0] = plan.quiet_wait
    first = next(
        (row for row in rows if row["request"] == "/books" and row["page"] == "first"), None
    )
    if first and first.get("total") != facts["books"]:
        say(
            f"  warning: GET /books says total {first.get('total')}, the database holds "
            f"{facts['books']} books"
        )
    return {
        "books": stored.shape.books,
        "database": stored.name,
        "kept": stored.kept,
        "build": stored.build,
        "facts": {k: str(v) for k, v in facts.items()},
        "postgres": postgres_settings(stored.name),
        "reads": rows,
        "writes": writes,
    }


def drop_kept() -> None:
    for name in databases.named_like(KEPT):
        databases.drop(name)
        say(f"dropped {name}")


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    if args.drop_kept:
        drop_kept()
        return
    wrk.require_wrk()
    databases.check_redis()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = RESULTS / f"scale-{stamp}"
    started = time.monotonic()
    foreign = cpu.foreign_load()
    say(f"other processes keep {foreign:.2f} cores busy")
    quiet = [args.quiet_wait]
    sizes: list[dict[str, object]] = []
    for books in args.sizes:
        stored = obtain(catalogue.Shape(books), args)
        try:
            if args.build_only:
                sizes.append(
                    {
                        "books": books,
                        "database": stored.name,
                        "kept": stored.kept,
                        "build": stored.build,
                    }
                )
                continue
            sizes.append(measure_size(stored, args, workdir / str(books), quiet))
        finally:
            if not stored.kept:
                databases.drop(stored.name)
                say(f"dropped {stored.name}")
    result = {
        "timestamp": stamp,
        "command": " ".join(["python -m tests.benchmarks.scale", *(argv or sys.argv[1:])]),
        "settings": vars(args),
        "code": code_version(),
        "machine": {**environment(), "foreign_cores_at_start": foreign},
        "sizes": sizes,
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"scale-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(report.scale_markdown(sizes))
    print(
        f"\nResults: {path.relative_to(RESULTS.parents[2])} ({result['wall_seconds']:.0f} s in all)"
    )


if __name__ == "__main__":
    main()
