"""How many argon2id verifies per second this machine does, with the service's parameters:
the ceiling for `POST /api/v1/auth/login`."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type

from tests.benchmarks.dataset import PASSWORD
from tests.benchmarks.load import argon2_parameters


def verify_rate(threads: int, seconds: float) -> float:
    """Verifies per second on `threads` threads (argon2-cffi releases the GIL)."""
    hasher = PasswordHasher(**argon2_parameters(), type=Type.ID)
    password_hash = hasher.hash(PASSWORD)
    hasher.verify(password_hash, PASSWORD)  # warm

    def loop(deadline: float) -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.verify(password_hash, PASSWORD)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        counts = list(pool.map(loop, [started + seconds] * threads))
    return round(sum(counts) / (time.perf_counter() - started), 1)


def measure(seconds: float) -> dict[str, object]:
    return {
        "parameters": {**argon2_parameters(), "type": "argon2id"},
        "verify_per_s_1_thread": verify_rate(1, seconds),
        "verify_per_s_2_threads": verify_rate(2, seconds),
    }
