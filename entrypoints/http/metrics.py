"""Prometheus metrics at GET /metrics: requests by method, route template and status,
their latency, requests in flight, the database connection pools, and each worker's
session cache (its hits and misses, entries, and whether it trusts them).

One process (`bookly serve`, one worker): the samples live in this app's own registry
and the pool is read at scrape time. Several uvicorn workers: `bookly serve --workers N`
points prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) at a shared
folder; each worker writes its samples there and the worker that answers a scrape adds
them up. Pool and cache gauges are then summed over the live workers, each as of its
latest request or scrape; the cache's hit and miss counters, counted by the cache
itself, are carried into prometheus_client's counters at those moments too.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import problem

if TYPE_CHECKING:
    from sqlalchemy.pool import QueuePool

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # no route: never the raw path, which may carry tokens
LABELS = ("method", "route", "status")
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Source = TypeVar("Source")


class CataloguePool(Protocol):
    """The catalogue's own connection pool, as it reports itself (PostgreSQL's)."""

    def size(self) -> int: ...

    def in_use(self) -> int: ...


class SessionCacheState(Protocol):
    """A worker's session cache, as it reports itself."""

    @property
    def trusted(self) -> bool: ...

    hits: int
    misses: int

    def __len__(self) -> int: ...


Readings = dict[str, tuple[str, Callable[[Source], int]]]
POOL: Readings[QueuePool] = {  # gauge name -> (help, reading of a SQLAlchemy QueuePool)
    "bookly_db_pool_size": ("Connections the pool keeps open.", lambda p: p.size()),
    "bookly_db_pool_checked_out": ("Connections in use by requests.", lambda p: p.checkedout()),
    "bookly_db_pool_checked_in": ("Idle connections in the pool.", lambda p: p.checkedin()),
    "bookly_db_pool_overflow": (
        "Connections open beyond the pool size.",
        lambda p: max(0, p.overflow()),
    ),
}
READ_POOL: Readings[CataloguePool] = {  # gauge name -> (help, reading of the pool)
    "bookly_db_read_pool_size": (
        "Connections the catalogue's pool (its reads, and the "
        "writes of a book or a review) has open.",
        lambda p: p.size(),
    ),
    "bookly_db_read_pool_in_use": (
        "Connections of that pool in use by requests.",
        lambda p: p.in_use(),
    ),
}
SESSION_CACHE: Readings[SessionCacheState] = {  # name -> (help, reading of the cache)
    "bookly_session_cache_entries": ("Live session checks the workers hold in memory.", len),
    "bookly_session_cache_trusted": (
        "Workers whose session cache is trusted (listening to revocations).",
        lambda c: int(c.trusted),
    ),
}
GAUGES = {name: text for name, (text, _) in (POOL | READ_POOL | SESSION_CACHE).items()}


class Metrics:
    def __init__(
        self,
        pool: Callable[[], Any],
        shared: bool,
        read_pool: Callable[[], Any] = lambda: None,
        session_cache: Callable[[], Any] = lambda: None,
    ) -> None:
        self.pool = pool  # -> the engine's pool, read when asked
        self.read_pool = read_pool  # -> the reads' rows: a pool of their own, or the engine
        self.session_cache = session_cache  # -> this worker's SessionCache, or None
        self.shared = shared  # several workers pool their samples in a folder
        self.requests = Counter(
            "bookly_http_requests", "HTTP requests answered.", LABELS, registry=None
        )
        self.latency = Histogram(
            "bookly_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            LABELS,
            buckets=SECONDS,
            registry=None,
        )
        self.in_flight = Gauge(
            "bookly_http_requests_in_flight",
            "HTTP requests being served.",
            registry=None,
            multiprocess_mode="livesum",
        )
        self.cache_lookups = {  # the SessionCache's own counts, by attribute name
            outcome: Counter(
                f"bookly_session_cache_{outcome}",
                f"Session checks a worker's cache looked up ({outcome}).",
                registry=None,
            )
            for outcome in ("hits", "misses")
        }
        self._noted = dict.fromkeys(self.cache_lookups, 0)  # counted into them so far
        self.worker_gauges = (
            {
                name: Gauge(name, text, registry=None, multiprocess_mode="livesum")
                for name, text in GAUGES.items()
            }
            if self.shared
            else {}
        )
        self.registry = CollectorRegistry()
        if not self.shared:
            counters = self.cache_lookups.values() if session_cache() is not None else ()
            for collector in (self.requests, self.latency, self.in_flight, *counters, self):
                self.registry.register(collector)
            for extra in (ProcessCollector, PlatformCollector, GCCollector):
                extra(registry=self.registry)

    def readings(self) -> dict[str, float]:
        found: dict[str, float] = {}
        pool, read_pool = self.pool(), self.read_pool()
        if hasattr(pool, "checkedout"):  # not e.g. the single connection of :memory:
            found |= {name: float(read(pool)) for name, (_, read) in POOL.items()}
        if hasattr(read_pool, "in_use"):  # PostgreSQL's pool; SQLite reads on the engine
            found |= {name: float(read(read_pool)) for name, (_, read) in READ_POOL.items()}
        cache = self.session_cache()
        if cache is not None:
            found |= {name: float(read(cache)) for name, (_, read) in SESSION_CACHE.items()}
        return found

    def note_cache_lookups(self) -> None:
        """Adds what the session cache counted since the last note to the counters."""
        cache = self.session_cache()
        if cache is None:
            return
        for outcome, counter in self.cache_lookups.items():
            count = getattr(cache, outcome)
            if count > self._noted[outcome]:
                counter.inc(count - self._noted[outcome])
                self._noted[outcome] = count

    def collect(self) -> Any:  # the gauges, read at scrape time (one process)
        for name, value in self.readings().items():
            family = GaugeMetricFamily(name, GAUGES[name])
            family.add_metric([], value)
            yield family

    def note_worker(self) -> None:  # several workers: this worker's gauges and counts
        for name, value in self.readings().items():
            self.worker_gauges[name].set(value)
        self.note_cache_lookups()

    def exposition(self) -> bytes:
        if not self.shared:
            self.note_cache_lookups()
            return generate_latest(self.registry)
        self.note_worker()
        registry = CollectorRegistry()
        # prometheus_client leaves MultiProcessCollector's __init__ unannotated
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


class MetricsMiddleware:
    """Pure ASGI: counts and times every HTTP request by its route template. Put it outside
    the request-context middleware, so that it sees the status that was really sent."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.metrics.shared:
            await self.app(scope, receive, self._forget_on_shutdown(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics, status, started = self.metrics, 500, time.perf_counter()

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            metrics.in_flight.dec()
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            labels = (method, str(route), str(status))
            metrics.requests.labels(*labels).inc()
            metrics.latency.labels(*labels).observe(time.perf_counter() - started)
            if metrics.shared:
                metrics.note_worker()

    @staticmethod
    def _forget_on_shutdown(send: Send) -> Send:
        async def send_then_forget(message: Message) -> None:
            await send(message)
            if message["type"] == "lifespan.shutdown.complete":
                # its live gauges go (prometheus_client leaves the function unannotated)
                multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

        return send_then_forget


def add_metrics(
    app: FastAPI,
    pool: Callable[[], Any],
    token: str | None,
    shared: bool = False,
    read_pool: Callable[[], Any] = lambda: None,
    session_cache: Callable[[], Any] = lambda: None,
) -> None:
    """GET /metrics (a bearer `token` required when given) and the middleware feeding it;
    `shared` when several workers pool their samples (prometheus_client's multiprocess mode).
    Call it after the other middleware, so that it wraps them all."""
    metrics = Metrics(pool, shared, read_pool, session_cache)
    app.state.metrics = metrics
    expected = f"Bearer {token}".encode() if token else None

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization")
            if not hmac.compare_digest(given.encode() if given else b"", expected):
                code = "invalid_token" if given else "not_authenticated"
                return problem(
                    request,
                    401,
                    code,
                    "Scraping the metrics needs the metrics token as a Bearer token.",
                    {"WWW-Authenticate": "Bearer"},
                )
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
