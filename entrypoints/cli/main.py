"""`bookly`: the operator's command line, a second entrypoint over the same container."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from entrypoints.cli import admin, books, users
from entrypoints.cli.metrics_folder import shared_metrics_folder
from entrypoints.cli.runtime import load_settings
from entrypoints.container import Container
from entrypoints.settings import Settings


def migrate(settings: Settings) -> None:
    from migrations import upgrade_to_head

    upgrade_to_head(settings.database_url)


def serve(args: argparse.Namespace) -> None:
    import signal

    import uvicorn

    settings = load_settings()
    if settings.is_sqlite:
        migrate(settings)  # the embedded default looks after its own schema
    settings.resolved_secret_key()  # made once here, so every worker shares it
    # uvicorn raises SIGTERM again once it has shut down gracefully: a stop asked for is
    # then a clean exit (0), not death by the signal.
    signal.signal(signal.SIGTERM, _stopped)
    with shared_metrics_folder(
        args.workers, settings.metrics_exposed, settings.prometheus_multiproc_dir
    ):
        uvicorn.run(
            "entrypoints.http.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=False,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def worker(args: argparse.Namespace) -> None:
    from entrypoints.worker.commands import run_worker

    try:
        run_worker(load_settings(), args.concurrency, args.hostname, args.loglevel)
    except ValueError as error:
        raise SystemExit(f"bookly: {error}") from None


def flower(args: argparse.Namespace) -> None:
    from entrypoints.worker.commands import run_flower

    try:
        run_flower(load_settings(), args.port, args.address)
    except ValueError as error:
        raise SystemExit(f"bookly: {error}") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="bookly", description="Bookly book-review service.")
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the HTTP API (uvicorn)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.set_defaults(handler=serve)
    up = commands.add_parser("migrate", help="upgrade the database schema to the newest revision")
    up.set_defaults(handler=lambda _args: migrate(load_settings()))
    admin.register(commands)
    work = commands.add_parser("worker", help="run a Celery worker (needs BOOKLY_BROKER_URL)")
    work.add_argument("--concurrency", type=int, help="processes (BOOKLY_WORKER_CONCURRENCY)")
    work.add_argument("--hostname", help="the worker's node name, e.g. mail@%%h")
    work.add_argument("--loglevel", default="INFO")
    work.set_defaults(handler=worker)
    watch = commands.add_parser("flower", help="run Flower on the same broker")
    watch.add_argument("--port", type=int, help="default BOOKLY_FLOWER_PORT (5555)")
    watch.add_argument("--address", default="127.0.0.1")
    watch.set_defaults(handler=flower)
    users.register(commands)
    books.register(commands)
    return root


def main(argv: Sequence[str] | None = None, container: Container | None = None) -> None:
    """Operator commands (`users ...`, `books ...`) run on `container` when one is given
    (tests inject theirs); otherwise each builds one from the settings and closes it."""
    args = parser().parse_args(argv, namespace=argparse.Namespace(container=container))
    args.handler(args)


if __name__ == "__main__":
    main()
