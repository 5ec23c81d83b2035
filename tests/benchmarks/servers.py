"""The servers under test, each a subprocess with its output in a log file of the run."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
BOOKLY = Path(sys.executable).with_name("bookly")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def clean_environment() -> dict[str, str]:
    """The caller's environment without BOOKLY_* variables: only the run's settings apply."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BOOKLY_")}


def bookly_settings(
    database_url: str, redis_url: str, key_prefix: str, workdir: Path
) -> dict[str, str]:
    return {
        "BOOKLY_ENV": "production",  # JSON log lines, as in production
        "BOOKLY_DATABASE_URL": database_url,
        "BOOKLY_REDIS_URL": redis_url,
        "BOOKLY_REDIS_KEY_PREFIX": key_prefix,
        "BOOKLY_SECRET_KEY": secrets.token_urlsafe(48),
        "BOOKLY_RATE_LIMITS_ENABLED": "false",
        "BOOKLY_MAIL_OUTBOX_DIR": str(workdir / "outbox"),
    }


def start(
    name: str, command: list[str], workdir: Path, env: dict[str, str], port: int, ready_path: str
) -> Server:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(name, port, process, log)
    try:
        _wait_ready(server, ready_path)
    except BaseException:
        server.stop()
        raise
    return server


def start_bookly(workdir: Path, settings: dict[str, str]) -> Server:
    port = free_port()
    command = [str(BOOKLY), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return start("bookly", command, workdir, {**clean_environment(), **settings}, port, "/health")


def start_reference(app: str, workdir: Path, *arguments: str) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.benchmarks.reference_apps",
        app,
        "--port",
        str(port),
        *arguments,
    ]
    env = {**clean_environment(), "PYTHONPATH": str(ROOT)}
    return start(f"reference-{app}", command, workdir, env, port, "/")


def _wait_ready(server: Server, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited ({server.process.returncode}); "
                f"see {server.log}:\n{server.log.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(server.base + path, timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise TimeoutError(f"{server.name} did not answer {path} within {timeout:.0f} s")
