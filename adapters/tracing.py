"""The spans of background jobs, made by the task queues through the OpenTelemetry API
alone: without the SDK installed (tracing off) they are the API's no-op spans.

A job's hand-over continues the trace of the job's cause, from the W3C trace context
stored with the job, not from whatever context the relay runs in (its own poll, untraced);
the run that follows is a child of the hand-over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

tracer = trace.get_tracer(__name__)
_W3C = TraceContextTextMapPropagator()

JOB_ID = "bookly.job.id"


@contextmanager
def handing_over(
    task_name: str, task_id: str | None, trace_context: Mapping[str, str] | None
) -> Iterator[None]:
    """The span `outbox job <task>` around a job's hand-over to the queue, current inside
    (so the publish, and a task started inside, are its children)."""
    cause = _W3C.extract(dict(trace_context or {}), context=context.Context())
    token = context.attach(cause)  # a fresh context: the relay's suppression left outside
    try:
        with tracer.start_as_current_span(
            f"outbox job {task_name}",
            kind=SpanKind.PRODUCER,
            attributes={JOB_ID: task_id or "", "messaging.destination.name": task_name},
        ):
            yield
    finally:
        context.detach(token)


@contextmanager
def running(task_name: str, task_id: str | None) -> Iterator[None]:
    """The span `run/<task>` of a job run in this process (named as Celery's
    instrumentation names the worker's)."""
    with tracer.start_as_current_span(
        f"run/{task_name}", kind=SpanKind.CONSUMER, attributes={JOB_ID: task_id or ""}
    ):
        yield
