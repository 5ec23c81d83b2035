"""The FastAPI app factory. Tests pass their own settings or container."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.postgres.pool import is_unavailable_error as postgres_unavailable
from adapters.redis.client import is_unavailable_error as redis_unavailable
from adapters.sqlalchemy.engine import is_unavailable_error as database_unavailable
from domain.errors import DomainError
from entrypoints.container import (
    Container,
    build_container,
    close_resources,
    start_background,
)
from entrypoints.http.cors import ProblemCORSMiddleware
from entrypoints.http.docs import add_docs
from entrypoints.http.metrics import add_metrics
from entrypoints.http.middleware import BodyLimitMiddleware, EdgeMiddleware
from entrypoints.http.problems import (
    domain_error_handler,
    http_exception_handler,
    request_validation_handler,
)
from entrypoints.http.routers import (
    API_PREFIX,
    auth,
    books,
    mail_links,
    operations,
    reviews,
    tags,
    users,
)
from entrypoints.http.security import ClientAddress
from entrypoints.logging import configure_logging
from entrypoints.settings import Environment, Settings

DESCRIPTION = """Bookly: sign up, review books, tag them.

Every error is `application/problem+json` with a stable `error_code`.
Authenticate with **Authorize** (OAuth2 password flow: your email as username)."""


HOT_FIRST = (operations.router, books.router, auth.router, mail_links.router, reviews.router,
             tags.router, users.router, mail_links.forms)
# Requested most of all: tried right after the operations routes (the probes). A request
# that matches late pays for every route tried before it (~1 µs each).
HOTTEST = (("GET", f"{API_PREFIX}/books/{{uid}}"), ("GET", f"{API_PREFIX}/books"),
           ("GET", f"{API_PREFIX}/auth/me"))
DOCS_ORDER = ("auth", "books", "users", "reviews", "tags", "operations")


def is_unavailable(error: BaseException) -> bool:
    return (database_unavailable(error) or postgres_unavailable(error)
            or redis_unavailable(error))


def settle_heap() -> None:
    """What start-up made (modules, routes, schemas, the container's singletons) lives as
    long as the process: freeze it out of the garbage collector's reach. A full collection
    otherwise walks all of it, finding nothing: measured under load, pauses of ~100 ms
    every few seconds, which set the p99 of every endpoint. Garbage made later is
    collected as before."""
    gc.collect()
    gc.freeze()


def _hottest_first(app: FastAPI, after: int) -> None:
    """Moves the HOTTEST routes to just after the first `after` routes; none of them
    overlaps a route it overtakes, so every request still finds the same route."""
    routes = app.router.routes
    hot = [next(r for r in routes if (m, p) == (_method(r), getattr(r, "path", None)))
           for m, p in HOTTEST]
    rest = [r for r in routes[after:] if r not in hot]
    routes[after:] = [*hot, *rest]


def _method(route: object) -> str | None:
    methods = getattr(route, "methods", None) or set()
    return next(iter(methods - {"HEAD"}), None) if len(methods - {"HEAD"}) == 1 else None


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    container = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        start_background(container)
        settle_heap()
        try:
            yield
        finally:
            await close_resources(container)

    app = FastAPI(
        openapi_tags=[{"name": name} for name in DOCS_ORDER],
        title="Bookly API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None,
        swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.settings = settings
    app.state.client_address = ClientAddress(settings.trusted_proxies)
    app.state.container = container
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    # The routes go straight onto the app's router, most requested first: FastAPI matches
    # a request against each route in turn, and an included router adds a layer of
    # bookkeeping per route tried (measured: /health, once last, took twice as long).
    # The routers carry only their prefix and tag, which the routes already hold.
    for router in HOT_FIRST:
        app.router.routes.extend(router.routes)
    add_docs(app, docs_url=f"{API_PREFIX}/docs", redoc_url=f"{API_PREFIX}/redoc")  # no CDN

    # Added innermost first: the edge wraps everything but the metrics.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        wildcard = "*" in settings.cors_origins
        app.add_middleware(
            ProblemCORSMiddleware, allow_origins=settings.cors_origins,
            allow_credentials=not wildcard, allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(  # every response, problems included, has its headers
        EdgeMiddleware, is_unavailable=is_unavailable, allowed_hosts=settings.allowed_hosts,
        docs_prefixes=(f"{API_PREFIX}/docs", f"{API_PREFIX}/redoc"),
        hsts_seconds=settings.hsts_seconds if settings.env is Environment.PRODUCTION else 0,
    )
    if settings.metrics_exposed:  # /metrics, and the middleware that counts every request
        reads_on_postgres = container.config.book_reads() == "postgres"
        caching = bool(container.config.session_cache_ttl())  # Redis: sessions cached
        add_metrics(app, lambda: container.engine().pool, settings.metrics_token,
                    shared=settings.prometheus_multiproc_dir is not None,
                    read_pool=lambda: container.postgres_pool() if reads_on_postgres else None,
                    session_cache=lambda: container.session_cache() if caching else None)
    app.openapi()  # made (and kept) while the routes are in the order the docs show them
    _hottest_first(app, after=len(operations.router.routes) + 1)  # + openapi.json
    return app
