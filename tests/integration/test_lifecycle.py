"""The container opens and closes the process's resources in one place: every process
opens what it must close, the server also starts its background work, and closing stops
that work before closing what it uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.settings import Settings

STARTED = ("relay_running", "listener_running")
CLOSED = ("database_open", "catalogue_pool_open", "redis_open", "hashing_open", "task_queue_open")


def embedded(tmp_path: Path) -> Container:
    return build_container(
        Settings(
            _env_file=None,
            secret_key="s" * 40,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bookly.db'}",
            mail_outbox_dir=str(tmp_path / "outbox"),
        )
    )


def opened(container: Container, names: tuple[str, ...]) -> set[str]:
    return {name for name in names if getattr(container, name).initialized}


async def test_a_process_opens_what_it_closes_and_only_the_server_runs_background_work(
    tmp_path: Path,
) -> None:
    command = embedded(tmp_path)
    await open_resources(command)
    assert opened(command, CLOSED) == set(CLOSED)
    assert opened(command, STARTED) == set()
    await close_resources(command)
    assert opened(command, CLOSED) == set()

    server = embedded(tmp_path)
    await open_resources(server, serving=True)
    assert opened(server, STARTED) == set(STARTED)  # the listener's is a no-op without Redis
    threads = server.argon2_threads()
    await close_resources(server)
    assert opened(server, CLOSED + STARTED) == set()
    with pytest.raises(RuntimeError):  # the hashing threads are shut down
        threads.submit(print)


async def test_closing_stops_the_relay_before_the_database_and_queue_it_uses(
    tmp_path: Path,
) -> None:
    server = embedded(tmp_path)
    await open_resources(server, serving=True)
    relay = server.outbox_relay()
    events: list[str] = []
    stop = relay.stop

    async def stopping() -> None:
        events.append("relay stopped")
        await stop()

    relay.stop = stopping  # type: ignore[method-assign]
    event.listen(
        server.engine().sync_engine, "engine_disposed", lambda _: events.append("database closed")
    )
    await close_resources(server)
    assert events == ["relay stopped", "database closed"]
