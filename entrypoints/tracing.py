"""Tracing with OpenTelemetry: off unless OTEL_EXPORTER_OTLP_ENDPOINT says where to send it
(read, with OTEL_SDK_DISABLED and the URLs left untraced, by `Settings`).

Unset (the default), this module installs nothing: no tracer provider (the OpenTelemetry
API's global stays its no-op proxy) and no instrumentation, so requests pay nothing for
it. Set, `start_tracing` installs the SDK in this process: spans batched and sent over
OTLP/HTTP, resource attributes from the standard OTEL_* variables (OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES; the service name defaults to `bookly-api` or `bookly-worker`),
and the official instrumentations: the FastAPI app (in `entrypoints.http.app`), each
SQLAlchemy engine on SQLite and Redis client the container makes, asyncpg (every statement
on PostgreSQL) and Celery (publish and run).

Tests install the SDK with a span processor of their own (`install`), e.g. an in-memory
exporter's, and remove the instrumentation again with `Tracing.stop`.

Background loops (the outbox relay) run untraced (`untraced`): an idle poll is no trace.
A job carries the W3C trace context of the request that wrote it (`current_trace_context`,
stored with the job), so the relay's hand-over and the run are part of that request's trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

    from entrypoints.settings import Settings

_W3C = TraceContextTextMapPropagator()


class Tracing:
    """The SDK's tracer provider in this process and the instrumentation it feeds.

    Process-wide instrumentations (asyncpg, Celery's signals) are on between `start` and
    `stop`; the app, engines and Redis clients are instrumented one by one as they are made.
    """

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._sql_tracer: trace.Tracer | None = None

    def start(self) -> None:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        AsyncPGInstrumentor().instrument(tracer_provider=self.provider)
        CeleryInstrumentor().instrument(tracer_provider=self.provider)

    def stop(self) -> None:
        """Remove the instrumentation (the provider stays, for `shutdown`)."""
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

        AsyncPGInstrumentor().uninstrument()
        CeleryInstrumentor().uninstrument()
        EngineTracer.remove_all_event_listeners()

    def shutdown(self) -> None:
        """Stop, and send the spans still batched (at the end of the process)."""
        self.stop()
        self.provider.shutdown()

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """Each statement the engine sends is a span: SQLAlchemy's instrumentation, on this
        engine alone (its process-wide mode patches `create_engine`, which Bookly calls
        through its own module). Not on asyncpg, whose instrumentation sees the same
        statements, the catalogue pool's too: one span per statement, not two."""
        if engine.dialect.driver == "asyncpg":
            return
        from opentelemetry.instrumentation.sqlalchemy import __name__ as instrumentation
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import NoOpMeter

        if self._sql_tracer is None:
            self._sql_tracer = trace.get_tracer(instrumentation, tracer_provider=self.provider)
        usage = NoOpMeter(instrumentation).create_up_down_counter("db.client.connections.usage")
        EngineTracer(self._sql_tracer, engine.sync_engine, usage)

    def instrument_redis(self, client: Redis) -> None:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        RedisInstrumentor.instrument_client(client, tracer_provider=self.provider)


_active: Tracing | None = None


def active() -> Tracing | None:
    """The tracing this process runs, if any: what the container and app factory consult."""
    return _active


def install(processor: SpanProcessor, service_name: str) -> Tracing:
    """Install the SDK with `processor` as this process's tracer provider and start the
    instrumentation. The API lets a process set its global provider once: a later call
    keeps the first provider for the global tracers (the manual spans)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider

    global _active
    if _active is not None:
        _active.stop()
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default name.
    resource = Resource.create({SERVICE_NAME: service_name}).merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    tracing = Tracing(provider)
    tracing.start()
    _active = tracing
    return tracing


def uninstall() -> None:
    """Stop the active tracing's instrumentation (tests; `shutdown` does it at exit)."""
    global _active
    if _active is not None:
        _active.stop()
        _active = None


def start_tracing(settings: Settings, service_name: str) -> Tracing | None:
    """Tracing as the settings ask, for a process about to serve or work: the SDK with a
    batching OTLP/HTTP exporter when an endpoint is set (`Settings.traces_url`), installed
    once per process. Returns it only to the caller that installed it (who shuts it down
    at exit); None when tracing is off or was installed before."""
    url = settings.traces_url
    if _active is not None or url is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return install(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)), service_name)


def shutdown_tracing(tracing: Tracing | None) -> None:
    global _active
    if tracing is not None:
        tracing.shutdown()
        if _active is tracing:
            _active = None


def current_trace_context() -> dict[str, str] | None:
    """The W3C trace context (`traceparent`, and `tracestate` if any) of the span running
    here, for the outbox job it writes; None when nothing is traced (one context lookup)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier or None


@contextmanager
def untraced() -> Iterator[None]:
    """Instrumented libraries make no spans inside (and in tasks started inside)."""
    with suppress_instrumentation():
        yield
