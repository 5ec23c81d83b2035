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
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.tables import outbox_jobs
from migrations import upgrade_to_head
from tests.integration.sql_fixtures import truncate_all
from tests.integration.test_smtp_mailer import Inbox
from tests.services import free_port, start_redis_on, unavailable, wait_for_port

SECRET = "background-tests-secret-key-0123456789abcdef"
PASSWORD = "correct horse battery"


async def eventually(
    check: Callable[[], Awaitable[Any] | Any],
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(interval)


async def signup(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    username: str = "ada",
    request_id: str | None = None,
) -> httpx.Response:
    headers = {"X-Request-ID": request_id} if request_id else {}
    response = await client.post(
        "/api/v1/auth/signup",
        headers=headers,
        json={
            "email": email,
            "username": username,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 202, response.text
    return response


async def outbox(database_url: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(outbox_jobs).order_by(outbox_jobs.c.created_at))
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


async def settled(database_url: str, count: int = 1) -> list[dict[str, Any]]:
    """The outbox once `count` jobs are all finished."""

    async def finished() -> list[dict[str, Any]] | None:
        jobs = await outbox(database_url)
        done = len(jobs) == count and all(j["status"] in ("sent", "failed") for j in jobs)
        return jobs if done else None

    return await eventually(finished, timeout=30, interval=0.1, what="the jobs to finish")


async def count_after(inbox, seconds: float = 0.5) -> int:
    """The mails held a little later. Once its job is finished no attempt can start, so
    this only catches one that was already under way (a duplicate would show here)."""
    await asyncio.sleep(seconds)
    return len(inbox.envelopes)


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


def fast_settings(**values: Any) -> dict[str, Any]:
    """Settings for tests: short backoffs and limits, quick relays, cheap hashing."""
    return {
        "env": "test",
        "secret_key": SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_starttls": False,
        "smtp_timeout_seconds": 5,
        "outbox_poll_seconds": 0.1,
        "mail_max_attempts": 4,
        "mail_retry_base_seconds": 0.2,
        "mail_retry_max_seconds": 1.0,
        "task_soft_time_limit_seconds": 2,
        "task_time_limit_seconds": 3,
        "outbox_redispatch_after_seconds": 30,
        "worker_concurrency": 1,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "ip_rate_limit": 10_000,
        "dependency_timeout_seconds": 1.0,
        **values,
    }


def environment(values: dict[str, Any]) -> dict[str, str]:
    """The process environment for `values`, without the runner's own BOOKLY_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKLY_")}
    env.update({f"BOOKLY_{name.upper()}": str(value) for name, value in values.items()})
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

    def start(self, name: str, args: list[str], values: dict[str, Any]) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("ab") as sink:
            popen = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli.main", *args],
                env=environment(values),
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    async def worker(self, values: dict[str, Any], name: str = "w1") -> Process:
        process = self.start(name, ["worker", f"--hostname={name}@%h"], values)
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
