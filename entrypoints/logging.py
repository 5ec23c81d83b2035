"""Structured logging: JSON lines in production, readable lines in development."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, cast

import orjson
import structlog
from opentelemetry import trace

from entrypoints.settings import Environment, Settings


def _orjson_text(
    event: object, *, default: Callable[[Any], Any] | None = None, option: int | None = None
) -> str:
    """structlog's JSON serializer: orjson (several times json's speed; this runs once per
    request for the access line). Values orjson cannot encode go to `default` as before."""
    return orjson.dumps(event, default=default, option=option).decode()


class _Renderer:
    """The last processor, JSON or console as the latest configuration chose. Loggers keep
    their processors once first used (structlog's cache), so the choice is looked up here:
    a process configured again (the tests) renders as it was last told."""

    chosen: structlog.typing.Processor = structlog.processors.JSONRenderer()

    def __call__(self, logger: object, name: str, event: structlog.typing.EventDict) -> str:
        # Processor's result may be any rendering; both chosen renderers make a str (JSON
        # through _orjson_text, which structlog's JSONRenderer types as str | bytes).
        return cast(str, self.chosen(logger, name, event))


RENDERER = _Renderer()


def add_trace_ids(
    logger: object, name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """`trace_id` and `span_id` (hex, as tracing backends show them) of the span current
    where the line is written; nothing when no span is (tracing off: one lookup)."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event["trace_id"] = trace.format_trace_id(span.trace_id)
        event["span_id"] = trace.format_span_id(span.span_id)
    return event


def configure_logging(settings: Settings) -> None:
    json_lines = settings.env is Environment.PRODUCTION
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    RENDERER.chosen = (
        structlog.processors.JSONRenderer(serializer=_orjson_text)
        if json_lines
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    # Bookly's own events (one access line per request among them) skip the standard
    # library's records, handler and formatter: rendered by structlog, written as a line.
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, RENDERER],
        logger_factory=StderrLogger,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                RENDERER,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True


class StderrLogger:
    """structlog's output: one line per event to the current standard error (looked up at
    each write, so a test that swaps the stream still sees the lines). `name` is what
    `add_logger_name` reports."""

    def __init__(self, name: str = "", *_args: object) -> None:
        self.name = name

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def current_request_id() -> str | None:
    """The id of the request being served here (bound by the HTTP middleware), if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None
