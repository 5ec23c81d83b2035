"""A Celery app configured for Bookly's broker: JSON only, bounded waits, no results."""

from __future__ import annotations

from typing import Any

from celery import Celery

# Publishing retries a dropped connection briefly, then lets the caller (the outbox
# relay) decide: the job stays in the outbox and is handed over again later.
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}


def create_celery(
    broker_url: str, *, connect_timeout: float = 2.0, visibility_timeout: int = 3600, **conf: Any
) -> Celery:
    """The app every process shares the broker through; `conf` adds or overrides settings.

    Results are not stored: the outbox row is the record of each job, and Flower shows
    task states from the workers' events.
    """
    app = Celery("bookly", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        event_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_ignore_result=True,
        enable_utc=True,
        timezone="UTC",
        broker_connection_timeout=connect_timeout,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": max(5.0, connect_timeout),
            "socket_keepalive": True,
        },
        task_publish_retry=True,
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
    )
    app.conf.update(conf)
    return app
