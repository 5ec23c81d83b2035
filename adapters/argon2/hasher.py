"""Password hashing with argon2id (argon2-cffi), kept off the event loop."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")


class Argon2PasswordHasher:
    """`PasswordHasher` with argon2id.

    Defaults: t=3 passes over m=64 MiB with p=1 lane. OWASP's Password Storage Cheat
    Sheet sets the argon2id minimum at m=19 MiB, t=2, p=1 (or equivalent trade-offs
    such as m=12 MiB, t=3); 64 MiB with t=3 is above every one of those, and takes
    some tens of milliseconds of one core. p=1 keeps a single login from occupying
    several cores under load. Hashes made with other parameters still verify, and
    `needs_rehash` tells the caller to replace them at the next successful login.

    Hashing runs in `executor` (the loop's default thread pool when None); argon2's
    C code releases the GIL, so the event loop keeps serving other requests.
    """

    def __init__(
        self,
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 1,
        *,
        executor: Executor | None = None,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._executor = executor
        # Made once, with the same parameters as real hashes, so verifying it costs
        # what verifying a real one does.
        self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(24))

    async def _off_loop(self, func: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func)

    def _verify_now(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError, ValueError):
            return False

    async def hash(self, password: str) -> str:
        return await self._off_loop(partial(self._argon2.hash, password))

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._off_loop(partial(self._verify_now, password_hash, password))

    async def verify_dummy(self, password: str) -> None:
        await self._off_loop(partial(self._verify_now, self._dummy_hash, password))

    def needs_rehash(self, password_hash: str) -> bool:
        """True also for a hash that is not argon2 at all: it should be replaced."""
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True
