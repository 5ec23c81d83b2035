"""Reaching the real servers that integration and API tests need.

Without BOOKLY_REQUIRE_SERVICES=1 a missing server skips the tests that need it;
with it (as in CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage as MimeMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

REQUIRE_SERVICES = os.environ.get("BOOKLY_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_DSN = os.environ.get(
    "BOOKLY_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BOOKLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str, error: BaseException | None = None) -> None:
    message = f"{what} is not reachable" + (f": {error!r}" if error else "")
    if REQUIRE_SERVICES:
        pytest.fail(message + " (BOOKLY_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def asyncpg_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def new_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (no tables), dropped afterwards; its asyncpg URL."""
    import asyncpg

    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        unavailable("PostgreSQL", error)
    name = unique_name("bookly_test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_ADMIN_DSN.rpartition("/")
    try:
        yield asyncpg_url(f"{base}/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextmanager
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway redis-server on a free port, for tests that stop and start it."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server (binary)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        process = start_redis_on(port, Path(workdir))
        try:
            yield f"redis://127.0.0.1:{port}/0", process
        finally:
            process.terminate()
            process.wait(timeout=10)


def start_redis_on(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server") or "redis-server"
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def postgres_binaries() -> Path | None:
    """Debian keeps PostgreSQL's own initdb and pg_ctl in a versioned folder, off PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free port, run as the `postgres` OS user, for
    tests that stop and start the database server (never the machine's own)."""

    def __init__(self, folder: Path, *, standby_of: PrivateCluster | None = None) -> None:
        """A new cluster in `folder`; `standby_of` a running cluster: a streaming replica
        of it (`pg_basebackup -R`), to start."""
        binaries = postgres_binaries()
        if binaries is None or shutil.which("runuser") is None:
            unavailable("PostgreSQL's initdb/pg_ctl")
        self.bin, self.folder, self.port = binaries, folder, free_port()
        self.data = folder / "data"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
        if standby_of is not None:
            self._as_postgres(
                "pg_basebackup",
                *("-h", "127.0.0.1", "-p", str(standby_of.port), "-U", "postgres"),
                *("-D", str(self.data), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"),
            )
            return
        self._as_postgres(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop_quietly(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()


class Inbox:
    """An aiosmtpd handler that keeps what it receives, or refuses it with `answer`."""

    def __init__(self, answer: str = "250 Message accepted for delivery") -> None:
        self.answer = answer
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return self.answer

    def messages(self) -> list[MimeMessage]:
        return [
            email.message_from_bytes(envelope.content, policy=default)  # type: ignore[misc]
            for envelope in self.envelopes
        ]


async def eventually(condition: Callable[[], bool], what: str, within: float = 5.0) -> float:
    """Waits for `condition`; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.005)
    return time.monotonic() - started


# A user's representation, in the API (UserOut) and the command line: its fields, no more.
USER_FIELDS = {
    "uid",
    "email",
    "username",
    "first_name",
    "last_name",
    "role",
    "is_verified",
    "is_active",
    "created_at",
    "updated_at",
}
