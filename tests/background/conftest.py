"""Background mail end to end: real processes (`bookly worker`, `bookly flower`,
`bookly serve`), a private Redis broker that tests stop and start, an aiosmtpd server
that answers as told, and the PostgreSQL test database.

Every process a test starts is killed at teardown, with its children.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from adapters.sqlalchemy.engine import create_engine
from entrypoints.settings import Settings
from migrations import upgrade_to_head
from tests.api.support import Api, running
from tests.background.support import eventually, fast_settings
from tests.integration.sql_fixtures import truncate_all
from tests.services import Inbox, free_port, start_redis_on, unavailable, wait_for_port


class ScriptedInbox(Inbox):
    """An SMTP server that answers DATA from a script, then accepts.

    `replies` are answered in turn (e.g. "451 ..." or "550 ..."); `delays` are slept in
    turn before answering. Like a real server, a message counts as received only once
    its 250 answer goes out: a client that dies before then delivered nothing.
    """

    def __init__(self, replies: list[str] | None = None, delays: list[float] | None = None):
        super().__init__()
        self.replies = list(replies or [])
        self.delays = list(delays or [])
        self.attempts = 0
        self.data_started = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        self.data_started.set()
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        if self.replies:
            return self.replies.pop(0)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages() if m["To"] == address]


@pytest.fixture
def smtp() -> Iterator[Callable[..., tuple[ScriptedInbox, int]]]:
    """`inbox, port = smtp(replies=[...], delays=[...])`; stopped after the test."""
    controllers: list[Controller] = []

    def start(**script: Any) -> tuple[ScriptedInbox, int]:
        inbox, port = ScriptedInbox(**script), free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for controller in controllers:
        controller.stop()


@dataclass
class Broker:
    """A redis-server of the module's own, which tests may stop and start again."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = start_redis_on(self.port, self.workdir)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def flush(self) -> None:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=2)
        try:
            client.flushall()
        finally:
            client.close()


@pytest.fixture(scope="module")
def broker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = Broker(free_port(), tmp_path_factory.mktemp("broker"))
    try:
        broker.start()
    except (OSError, TimeoutError) as error:
        unavailable("redis-server (binary)", error)
    yield broker
    broker.stop()


@pytest.fixture
def broker(broker_server: Broker) -> Broker:
    """The module's broker, running and empty at the start of the test."""
    broker_server.start()
    broker_server.flush()
    return broker_server


@pytest.fixture(scope="session")
async def background_postgres_url(postgres_url: str) -> str:
    await asyncio.to_thread(upgrade_to_head, postgres_url)
    return postgres_url


@pytest.fixture
async def database_url(background_postgres_url: str) -> AsyncIterator[str]:
    """The migrated PostgreSQL test database, emptied before and after the test."""
    engine = create_engine(background_postgres_url)
    try:
        await truncate_all(engine)
        yield background_postgres_url
        await truncate_all(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def values(database_url: str, broker: Broker) -> dict[str, Any]:
    """Settings of the Celery configuration: the PostgreSQL test database, the broker."""
    return fast_settings(database_url=database_url, broker_url=broker.url)


@pytest.fixture
def api_factory(values: dict[str, Any], redis_url: str, redis_prefix: str, tmp_path: Path):
    """`async with api_factory(smtp_port) as api`: the HTTP API in this process, on the
    same database and broker as the worker (its rate limits on the shared Redis)."""

    @contextlib.asynccontextmanager
    async def start(smtp_port: int) -> AsyncIterator[Api]:
        settings = Settings(
            _env_file=None,
            **values,
            smtp_port=smtp_port,
            redis_url=redis_url,
            redis_key_prefix=redis_prefix,
            allowed_hosts=["testserver"],
            mail_outbox_dir=tmp_path / "unused",
        )
        async with running(settings) as api:
            yield api

    return start


def environment(values: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment for `values` (and `extra` variables as they are), without
    the runner's own BOOKLY_ and OTEL_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKLY_", "OTEL_"))}
    env.update({f"BOOKLY_{name.upper()}": str(value) for name, value in values.items()})
    env.update(extra or {})
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self, sig: int = signal.SIGKILL, grace: float = 10.0) -> None:
        """Signal the whole process group (a worker's pool children too); SIGKILL it if it
        is still there after `grace` seconds."""
        for current in (sig, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, current)  # the group outlives a dead leader
            try:
                self.popen.wait(timeout=grace)
                if current == signal.SIGKILL or not self._group_alive():
                    return
            except subprocess.TimeoutExpired:
                continue

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return False
        return True


@dataclass
class Processes:
    folder: Path
    started: list[Process] = field(default_factory=list)

    def start(
        self,
        name: str,
        args: list[str],
        values: dict[str, Any],
        extra_env: dict[str, str] | None = None,
    ) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("ab") as sink:
            popen = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli.main", *args],
                env=environment(values, extra_env),
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    async def worker(
        self, values: dict[str, Any], name: str = "w1", extra_env: dict[str, str] | None = None
    ) -> Process:
        process = self.start(name, ["worker", f"--hostname={name}@%h"], values, extra_env)
        await eventually(
            lambda: " ready." in process.output() or process.popen.poll(),
            timeout=30,
            what=f"worker {name} start",
        )
        assert process.popen.poll() is None, process.output()
        return process

    async def flower(self, values: dict[str, Any], port: int) -> Process:
        process = self.start("flower", ["flower", f"--port={port}"], values)
        await asyncio.to_thread(wait_for_port, port, 30)
        return process

    async def serve(self, values: dict[str, Any], port: int, name: str = "api") -> Process:
        process = self.start(name, ["serve", f"--port={port}"], values)
        await asyncio.to_thread(wait_for_port, port, 30)
        return process

    def stop_all(self) -> None:
        """SIGKILL every process group: quick, and nothing a test started survives it."""
        for process in self.started:
            process.kill(signal.SIGKILL)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
