"""`celery -A entrypoints.worker.main <command>`: the worker's app, configured from the
environment, for Celery's own tools (inspect, control; the compose healthcheck)."""

from __future__ import annotations

from entrypoints.cli.runtime import load_settings
from entrypoints.worker.app import create_worker_app

app = create_worker_app(load_settings())
