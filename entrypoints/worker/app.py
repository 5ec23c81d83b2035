"""The Celery app of `bookly worker` and `bookly flower`, built from Settings."""

from __future__ import annotations

import warnings
from typing import Any

from celery import Celery, signals
from celery.exceptions import CPendingDeprecationWarning

from application.outbox.retry import RetryPolicy
from entrypoints.container import broker_app
from entrypoints.logging import configure_logging
from entrypoints.settings import Settings
from entrypoints.tracing import Tracing, shutdown_tracing, start_tracing
from entrypoints.worker.relay import relay_step
from entrypoints.worker.runtime import Runtime
from entrypoints.worker.tasks import register_tasks


def create_worker_app(settings: Settings) -> Celery:
    """Late acknowledgement (a task whose worker dies is delivered again), one message
    prefetched per process, time limits, JSON only, task events on for Flower."""
    app = broker_app(
        settings,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        worker_concurrency=settings.worker_concurrency,
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    # Kept off on purpose (Celery warns it will default to on): a task that keeps running
    # through a broker outage finishes and records its mail as sent; cancelled, it might
    # have to send again.
    warnings.filterwarnings(
        "ignore",
        category=CPendingDeprecationWarning,
        message=r"(?s).*worker_cancel_long_running_tasks_on_connection_loss",
    )
    runtime = Runtime(settings)
    retry = RetryPolicy(
        settings.mail_max_attempts,
        settings.mail_retry_base_seconds,
        settings.mail_retry_max_seconds,
    )
    register_tasks(app, runtime, retry)
    app.steps["worker"].add(relay_step(settings))

    @signals.setup_logging.connect(weak=False, dispatch_uid="bookly-worker-logging")
    def _logging(**_: Any) -> None:
        configure_logging(settings)  # one format for the API and the worker

    # Tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) starts in the main process before
    # the pool forks: the relay there and the tasks in each child share it. Each process
    # sends its batched spans before it exits.
    traced: list[Tracing] = []

    @signals.worker_init.connect(weak=False, dispatch_uid="bookly-worker-tracing")
    def _trace(**_: Any) -> None:
        if (tracing := start_tracing(settings, "bookly-worker")) is not None:
            traced.append(tracing)

    @signals.worker_process_shutdown.connect(weak=False, dispatch_uid="bookly-worker-close")
    def _close(**_: Any) -> None:
        runtime.close()
        for tracing in traced:
            tracing.provider.force_flush()

    @signals.worker_shutdown.connect(weak=False, dispatch_uid="bookly-worker-tracing-end")
    def _end_tracing(**_: Any) -> None:
        while traced:
            shutdown_tracing(traced.pop())

    return app
