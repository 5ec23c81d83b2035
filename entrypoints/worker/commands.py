"""`bookly worker` and `bookly flower`."""

from __future__ import annotations

from entrypoints.container import broker_app
from entrypoints.settings import Environment, Settings
from entrypoints.worker.app import create_worker_app


def run_worker(
    settings: Settings, concurrency: int | None, hostname: str | None, loglevel: str
) -> None:
    app = create_worker_app(settings)
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        "--pool=prefork",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        "--without-mingle",
        "--without-gossip",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


def flower_credentials(settings: Settings) -> str | None:
    """`user:password` for Flower's basic auth; required in production."""
    user, password = settings.flower_user, settings.flower_password
    if user and password:
        if ":" in user:
            raise SystemExit("bookly: BOOKLY_FLOWER_USER cannot contain ':'")
        return f"{user}:{password}"
    if settings.env is Environment.PRODUCTION:
        raise SystemExit(
            "bookly: in production Flower needs BOOKLY_FLOWER_USER and "
            "BOOKLY_FLOWER_PASSWORD (basic auth)"
        )
    return None


def run_flower(settings: Settings, port: int | None, address: str) -> None:
    credentials = flower_credentials(settings)
    app = broker_app(settings)
    import flower.command  # noqa: F401 - defines Flower's options
    from tornado.options import options

    if credentials:
        # Set here rather than on the command line, where `ps` would show the password.
        options.basic_auth = [credentials]
    app.start(["flower", f"--port={port or settings.flower_port}", f"--address={address}"])
