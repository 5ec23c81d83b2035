"""Each worker's memory of recent session checks, kept true by Redis pub/sub.

An authenticated request needs to know that its session is live and who its account is.
Asking Redis costs a round trip per request; this cache answers repeated checks of the
same session from the worker's memory instead, and is told by Redis when to forget:

- Everything that ends a session or changes an account (`revoke_session`, `rotate` on
  reuse, `revoke_user`, `forget`) publishes on one channel in the same script or
  transaction that makes the change, and drops the entries of its own worker before it
  returns. Every worker listens on that channel (`InvalidationListener`) and drops what it
  hears about, typically well under a millisecond later.
- An entry is trusted only while the listener is known to hear: subscribed, and answered
  a heartbeat within the last `DEAF_AFTER_SECONDS`. A lost connection empties the cache,
  and nothing is trusted until the subscription is confirmed again, so messages missed
  while deaf cannot leave a revoked session standing.
- A check that was in flight while an invalidation for its user arrived is not stored
  (`invalidation_mark`): the answer may predate the change.
- An entry lives at most `ttl_seconds`, and never past its session's expiry in Redis. The
  TTL bounds what no message reports, such as keys removed by hand (FLUSHDB) or evicted.

Processes that never listen (the CLI, the Celery worker) never trust an entry, so they
always ask Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import structlog
from redis.asyncio import Redis

from application.ports.sessions import SessionCheck

DEAF_AFTER_SECONDS = 3.0  # no heartbeat answer for this long: stop trusting the cache
HEARTBEAT_SECONDS = 1.0
RECONNECT_SECONDS = 0.5
STRIPES = 1024  # generation counters, by user: an invalidation voids checks in flight
logger = structlog.get_logger("bookly.session_cache")


def user_message(user_id: UUID | str) -> str:
    return f"u:{user_id}"


@dataclass(slots=True)
class _Entry:
    user_id: UUID
    check: SessionCheck
    expires: float  # on the cache's clock


class SessionCache:
    """Live session checks by session id, for one worker process. Not thread-safe: the
    event loop's thread uses it, the listener included."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[UUID, _Entry] = {}
        self._by_user: dict[UUID, set[UUID]] = {}
        self._generations = [0] * STRIPES
        self._epoch = 0
        self._trusted_until = float("-inf")  # deaf until the listener first hears
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def trusted(self) -> bool:
        return self._clock() < self._trusted_until

    @property
    def trusted_until(self) -> float:
        """When trust lapses (on the cache's clock) unless the listener hears again."""
        return self._trusted_until

    def get(self, session_id: UUID, user_id: UUID) -> SessionCheck | None:
        entry = self._entries.get(session_id)
        now = self._clock()
        if (
            entry is None
            or now >= self._trusted_until
            or now >= entry.expires
            or entry.user_id != user_id
        ):
            self.misses += 1
            return None
        self.hits += 1
        return entry.check

    def invalidation_mark(self, user_id: UUID) -> tuple[int, int]:
        """How far invalidations of this user (and the listener's losses) have gone: take it
        before asking Redis, give it to `put`, which refuses the answer if it moved."""
        return self._epoch, self._generations[hash(user_id) % STRIPES]

    def put(
        self,
        session_id: UUID,
        user_id: UUID,
        check: SessionCheck,
        mark: tuple[int, int],
        session_expires_in: float | None,
    ) -> bool:
        if (
            not self._ttl
            or not check.live
            or check.user is None
            or mark != self.invalidation_mark(user_id)
            or not self.trusted
        ):
            return False
        lifetime = self._ttl if session_expires_in is None else min(self._ttl, session_expires_in)
        if lifetime <= 0:
            return False
        self._drop(session_id)
        while len(self._entries) >= self._max:
            self._drop(next(iter(self._entries)))
        self._entries[session_id] = _Entry(user_id, check, self._clock() + lifetime)
        self._by_user.setdefault(user_id, set()).add(session_id)
        return True

    def drop_session(self, session_id: UUID, user_id: UUID | None) -> None:
        entry = self._entries.get(session_id)
        for uid in {user_id, entry.user_id if entry else None} - {None}:
            assert uid is not None  # taken out of the set just above
            self._bump(uid)
        self._drop(session_id)

    def drop_user(self, user_id: UUID) -> None:
        self._bump(user_id)
        for session_id in list(self._by_user.get(user_id, ())):
            self._drop(session_id)

    def apply(self, message: bytes | str) -> None:
        """A message from the channel: `s:{session}:{user}` or `u:{user}`."""
        text = message.decode() if isinstance(message, bytes) else message
        kind, _, rest = text.partition(":")
        try:
            if kind == "s":
                session, _, user = rest.partition(":")
                self.drop_session(UUID(session), UUID(user) if user else None)
            elif kind == "u":
                self.drop_user(UUID(rest))
            else:
                raise ValueError(kind)
        except ValueError:  # not ours to understand: forget everything rather than guess
            logger.warning("session_cache_unknown_message", message=text[:100])
            self.flush()

    def heard(self) -> None:
        """The listener is subscribed and just heard from Redis."""
        self._trusted_until = self._clock() + DEAF_AFTER_SECONDS

    def flush(self) -> None:
        """Forget everything; checks in flight are not stored either."""
        self._epoch += 1
        self._entries.clear()
        self._by_user.clear()

    def distrust_all(self) -> None:
        """The listener lost its subscription: trust nothing until it is back."""
        self._trusted_until = float("-inf")
        self.flush()

    def _bump(self, user_id: UUID) -> None:
        self._generations[hash(user_id) % STRIPES] += 1

    def _drop(self, session_id: UUID) -> None:
        entry = self._entries.pop(session_id, None)
        if entry is not None:
            sessions = self._by_user.get(entry.user_id)
            if sessions is not None:
                sessions.discard(session_id)
                if not sessions:
                    del self._by_user[entry.user_id]


class InvalidationListener:
    """Keeps one worker's `SessionCache` subscribed to the invalidation channel: heartbeats
    every `HEARTBEAT_SECONDS`, and after a lost connection, resubscribes (the cache is
    emptied and distrusted meanwhile). Start it inside the running event loop."""

    def __init__(self, client: Redis, channel: str, cache: SessionCache) -> None:
        self._redis = client
        self._channel = channel
        self._cache = cache
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="session-cache-listener"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._cache.distrust_all()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the connection is gone; Redis may be down
                logger.warning("session_cache_deaf", error=type(error).__name__)
            self._cache.distrust_all()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            loop = asyncio.get_running_loop()
            next_ping, subscribed = loop.time(), False
            while True:
                if loop.time() >= next_ping:
                    await pubsub.ping()
                    next_ping = loop.time() + HEARTBEAT_SECONDS
                message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
                if message is None:
                    continue
                kind = message["type"]
                if kind == "subscribe":  # from now on nothing is missed: start afresh
                    subscribed = True
                    self._cache.flush()
                    self._cache.heard()
                elif kind == "pong" and subscribed:
                    self._cache.heard()
                elif kind == "message":
                    self._cache.apply(message["data"])
                    self._cache.heard()
        finally:
            self._cache.distrust_all()
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                await pubsub.aclose()
