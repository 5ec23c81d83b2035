"""The FastAPI app factory. Tests pass their own settings or container."""

from __future__ import annotations

import functools
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from opentelemetry.trace import Span
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount, Route

from domain.errors import DomainError
from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.http.conditional import ConditionalMiddleware, document_validators
from entrypoints.http.cors import ProblemCORSMiddleware
from entrypoints.http.docs import add_docs
from entrypoints.http.draining import Drain
from entrypoints.http.idempotency import KEY_HEADER, REPLAYED_HEADER
from entrypoints.http.metrics import add_metrics
from entrypoints.http.middleware import BodyLimitMiddleware, EdgeMiddleware
from entrypoints.http.problems import (
    domain_error_handler,
    http_exception_handler,
    request_validation_handler,
)
from entrypoints.http.read_your_writes import ReadYourWritesMiddleware
from entrypoints.http.routers import auth, books, mail_links, operations, reviews, tags, users
from entrypoints.http.security import ClientAddress
from entrypoints.links import API_PREFIX
from entrypoints.logging import configure_logging
from entrypoints.settings import Environment, Settings
from entrypoints.tracing import Tracing, active, shutdown_tracing, start_tracing

DESCRIPTION = """Bookly: sign up, review books, tag them.

Every error is `application/problem+json` with a stable `error_code`.
Authenticate with **Authorize** (OAuth2 password flow: your email as username).

Reads may be served by database replicas: a change you make with a token is in your own
next read at once; others see it within a few seconds."""


ROUTERS = (
    operations.router,
    books.router,
    auth.router,
    mail_links.router,
    reviews.router,
    tags.router,
    users.router,
    mail_links.forms,
)
DOCS_ORDER = ("auth", "books", "users", "reviews", "tags", "operations")


# A request in flight holds a few hundred tracked objects. Collected every 700 allocations
# (the default), the young generation keeps finding those of the requests in flight alive
# and promotes them, and the old generations' collections later walk them, dead; every
# 10,000 allocations, nearly all of a request's objects are freed by reference counting
# before a collection sees them.
YOUNG_GENERATION_THRESHOLD = 10_000


def freeze_startup_objects() -> None:
    """What start-up made (modules, routes, schemas, the container's singletons) lives as
    long as the process: `gc.freeze()` puts it out of the collector's reach, so a full
    collection does not walk all of it, finding nothing, and pause every request
    meanwhile. Garbage made later is collected as before."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    tracing = start_tracing(settings, "bookly-api")  # None unless an OTLP endpoint is set
    container = container or build_container(settings)
    drain = Drain(settings.shutdown_delay_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        drain.arm()
        await open_resources(container, serving=True)
        freeze_startup_objects()
        thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            await close_resources(container)
            shutdown_tracing(tracing)  # the spans still batched go out

    app = FastAPI(
        openapi_tags=[{"name": name} for name in DOCS_ORDER],
        title="Bookly API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.settings = settings
    app.state.client_address = ClientAddress(settings.trusted_proxies)
    app.state.container = container
    app.state.drain = drain
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    for router in ROUTERS:  # their routes carry the router's prefix and tags already
        app.router.routes.extend(router.routes)
    add_docs(app, docs_url=f"{API_PREFIX}/docs", redoc_url=f"{API_PREFIX}/redoc")  # no CDN
    generate = app.openapi

    def openapi() -> dict[str, Any]:  # FastAPI's documented way to extend its document
        if app.openapi_schema is None:
            app.openapi_schema = document_validators(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    # Added innermost first: the edge wraps everything but the metrics.
    if settings.database_replica_urls:  # a user's reads see the user's writes
        replicas = container.replicas
        app.add_middleware(
            ReadYourWritesMiddleware,
            positions=container.write_positions,
            primary_position=lambda: replicas().position(),  # type: ignore[union-attr]
            claimed=container.claimed(),
            read_floor=container.read_floor(),
        )
    app.add_middleware(ConditionalMiddleware)  # validators and 304s for what GET answers
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        wildcard = "*" in settings.cors_origins
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=not wildcard,
            allow_methods=["*"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                KEY_HEADER,
                "If-Match",
                "If-None-Match",
            ],
            expose_headers=["X-Request-ID", "Retry-After", "Location", REPLAYED_HEADER, "ETag"],
        )
    app.add_middleware(  # every response, problems included, has its headers
        EdgeMiddleware,
        allowed_hosts=settings.allowed_hosts,
        docs_prefixes=(f"{API_PREFIX}/docs", f"{API_PREFIX}/redoc"),
        hsts_seconds=settings.hsts_seconds if settings.env is Environment.PRODUCTION else 0,
    )
    if settings.metrics_exposed:  # /metrics, and the middleware that counts every request
        caching = bool(container.config.session_cache_ttl())  # Redis: sessions cached
        add_metrics(
            app,
            lambda: container.engine().pool,
            settings.metrics_token,
            shared=settings.prometheus_multiproc_dir is not None,
            read_pool=container.catalogue_rows,
            session_cache=lambda: container.session_cache() if caching else None,
        )
    if (traced := active()) is not None:
        _instrument(app, traced, settings.otel_excluded_urls)
    return app


def _instrument(app: FastAPI, tracing: Tracing, excluded_urls: str) -> None:
    """A span per request, outermost (it covers every middleware), with the W3C context a
    client sends as its parent; none for probes and scrapes, nor per ASGI message."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        server_request_hook=functools.partial(_route_not_path, app),
        tracer_provider=tracing.provider,
        excluded_urls=excluded_urls,
        exclude_spans=["receive", "send"],
    )


_PATH_ATTRIBUTES = ("http.target", "url.path", "http.url", "url.full")


def _route_not_path(app: FastAPI, span: Span, scope: dict[str, Any]) -> None:
    """A request's span names its route's template (`/api/v1/auth/verify/{token}`), never
    the path it was sent (a link's token), as the access log and the metrics do."""
    path = scope.get("path") or ""
    attributes = getattr(span, "attributes", None)  # the SDK's span; the API's has none
    if not span.is_recording() or not attributes:
        return
    template = next(
        (
            route.path
            for route in app.router.routes
            if isinstance(route, Route | Mount) and route.matches(scope)[0] is Match.FULL
        ),
        "<unmatched>",
    )
    if template == path:
        return
    for key in _PATH_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, value.replace(path, template, 1).partition("?")[0])
