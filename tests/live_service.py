"""`bookly serve` as operators start it: a subprocess on a free port, configured by
BOOKLY_* variables, on a temporary SQLite database (the embedded default) unless the
settings name another (PostgreSQL, Redis)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.services import free_port

SECRET = "live-service-secret-key-0123456789abcdefghijkl"
START_SECONDS = 60.0


def bookly_command() -> list[str]:
    script = shutil.which("bookly", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "entrypoints.cli.main"]


def service_environment(workdir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any BOOKLY_ or prometheus setting, plus the
    embedded default in `workdir` with rate limits off and cheap password hashing."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("BOOKLY_", "PROMETHEUS_"))
    }
    environment.update(
        BOOKLY_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bookly.db'}",
        BOOKLY_SECRET_KEY=SECRET,
        BOOKLY_MAIL_OUTBOX_DIR=str(workdir / "outbox"),
        BOOKLY_RATE_LIMITS_ENABLED="false",
        BOOKLY_ARGON2_TIME_COST="1",
        BOOKLY_ARGON2_MEMORY_KIB="1024",
    )
    environment.update({f"BOOKLY_{name.upper()}": value for name, value in settings.items()})
    return environment


def call(
    base_url: str, method: str, path: str, token: str | None = None, body: object = None
) -> tuple[int, Any]:
    """One JSON request to a running service: its status and its decoded body (None if
    empty), whatever the status."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{base_url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def log_in(base_url: str, email: str, password: str) -> str:
    """POST /api/v1/auth/login to a running service; its access token."""
    status, body = call(
        base_url, "POST", "/api/v1/auth/login", body={"email": email, "password": password}
    )
    assert status == 200, body
    return str(body["access_token"])


def run_bookly(
    environment: dict[str, str], *argv: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*bookly_command(), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def create_admin(environment: dict[str, str], email: str, password: str, cwd: Path) -> None:
    """`bookly create-admin` as an operator runs it, the password on standard input."""
    made = run_bookly(
        environment,
        "create-admin",
        "--email",
        email,
        "--password-stdin",
        stdin=password + "\n",
        cwd=cwd,
    )
    assert made.returncode == 0, made.stderr


@dataclass
class LiveService:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def live_service(
    environment: dict[str, str], workdir: Path, workers: int = 1
) -> Iterator[LiveService]:
    """Starts `bookly serve`, waits until /health answers, and stops it (SIGTERM, then
    SIGKILL to its process group if it does not stop in time)."""
    with live_services(environment, workdir, 1, workers) as (service,):
        yield service


@contextmanager
def live_services(
    environment: dict[str, str], workdir: Path, count: int, workers: int = 1
) -> Iterator[list[LiveService]]:
    """`count` services of one deployment (each on a port of its own), started together,
    as `live_service` starts one."""
    started: list[LiveService] = []
    try:
        for _ in range(count):
            started.append(_start(environment, workdir, workers))
        for service in started:
            _wait_healthy(service)
        yield started
    finally:
        for service in started:
            _stop(service.process)


def _start(environment: dict[str, str], workdir: Path, workers: int) -> LiveService:
    port = free_port()
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *bookly_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return LiveService(f"http://127.0.0.1:{port}", process, log)


def _wait_healthy(service: LiveService) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(
                f"bookly serve exited ({service.process.returncode}):\n" + service.output()[-4000:]
            )
        try:
            with urllib.request.urlopen(f"{service.base_url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(
        f"bookly serve did not answer /health within {START_SECONDS}s:\n" + service.output()[-4000:]
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with suppress(ProcessLookupError):  # a worker left behind, in the group we started
        os.killpg(process.pid, signal.SIGKILL)
