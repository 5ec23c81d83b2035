"""Authentication caching, and its one consistency promise.

What is cached where
--------------------
- The database is the truth about accounts (role, active flag, profile, password), Redis
  about sessions (`session:{sid}`, see `token_store`).
- Redis: a snapshot of each account that authenticated lately, `account:{uid}` (JSON
  without the password hash), for `account_cache_seconds` (0: none). Beside it,
  `account-version:{uid}`: a random stamp that every `forget` writes anew ("0" while
  missing), kept `VERSION_TTL_SECONDS` past the latest `forget`, longer than any
  snapshot. Random, not a counter: a counter that expired and started again could repeat
  a stamp a reader holds.
- Each worker serving HTTP: `SessionCache`, the answers of its recent session checks (the
  session is live, and its account's snapshot), each for `session_cache_seconds` (at most
  `account_cache_seconds`) from when it was read from Redis, and never past the session's
  expiry (by this host's clock) nor past the snapshot's own expiry in Redis.
- Processes that do not listen on the channel (the CLI, the Celery worker) never trust
  their memory: every check asks Redis. Without Redis nothing is cached.

How each is kept true
---------------------
- Every committed change of a user (`UserRepository.add` or `update`) is followed by
  `forget`: the application's `ForgettingUnitOfWork` calls it after the commit, so no use
  case has to. `forget` is one MULTI/EXEC that writes a new version stamp, deletes the
  snapshot and publishes `u:{uid}` on `{prefix}invalidations`; then the worker drops its
  own entries of that user.
- Whatever ends sessions publishes in the Lua script that ends them (`token_store`):
  `s:{sid}:{uid}` for one session, `u:{uid}` for all of a user's; the worker drops its own
  entries before returning.
- A snapshot read before a change is never stored after its `forget`: the check that
  misses returns the version stamp in the same round trip, and `remember` stores only
  while the stamp is unchanged. The writer forgets after its commit, so a reader whose
  miss comes after the `forget` loads the new row; one that loaded the old row before
  the commit is caught either way: a `forget` after its `remember` deletes the snapshot,
  one before it changes the stamp, so the `remember` stores nothing.
- Every worker's `InvalidationListener` is subscribed to the channel and drops what it
  hears about. A check that was in flight while an invalidation of its user was heard is
  not stored (`invalidation_mark`): its answer may predate the change. Entries are
  trusted only while the subscription is confirmed and Redis was heard (a message, or the
  answer to a heartbeat sent every `HEARTBEAT_SECONDS`) within `DEAF_AFTER_SECONDS`; a
  lost connection empties the cache, and nothing is trusted until it has subscribed again.
- The times to live bound what no message reports: keys deleted by hand or evicted, a
  `forget` that failed.

How long a change may take to be seen
-------------------------------------
Seen: every request authenticated from then on gets the new answer.

- By the worker that made the change: at once, before its request answers (Redis has
  changed and its own entries are gone).
- By every other worker (a change made by the CLI included): when its listener hears the
  message, which Redis publishes in the same script or transaction as the change; at worst
  `DEAF_AFTER_SECONDS` after the change if the subscription dies silently (trust lapses
  that long after the last reply heard, which Redis sent before the message, give or take
  that reply's delivery). A worker that does not trust its cache, refresh-token rotation
  and logging in always ask Redis or the database, so they see the change at once.

By event: the messages, and what the other workers do on hearing them.

- Logout, one session (`s:`): refuse that session's tokens.
- A reused refresh token (`s:`): the session is revoked; refuse its tokens.
- Logout everywhere, revoking a user (`u:`): refuse every token of the user.
- Role change (`u:`): load the account again, with its new role.
- Deactivation (`u:` after the commit, `u:` again when the sessions are ended): load the
  account again and refuse it as inactive.
- Password change or reset, email verification, an account taken over by `create-admin`
  (`u:`, `u:`): every session of the user is ended; refuse its tokens.
- Profile change (`u:`): load the account again.

When Redis fails between the SQL commit and `forget`, or during it, the caller gets an
error (a retry forgets again) and the change may go unannounced. The old snapshot may then
be served for up to `account_cache_seconds` from when it was last stored (perhaps just
after the commit, by a reader that loaded the row before it), workers' memories included
(an entry never outlives the snapshot it was read from). A password change or reset, an
email verification and a takeover end the user's sessions before their write as well as
after their commit (`end_sessions_before` in `application.accounts.sessions`), so the
sessions from before the change are gone even then. A deactivation's `revoke_user` after
the commit does not run, but the account is refused once its snapshot is gone (the active
flag is read from the database), and an admin's retry ends its sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import orjson
import redis.asyncio as aioredis
import structlog

from application.ports.clock import Clock
from application.ports.sessions import SessionCheck
from domain.users import Role, User

DEAF_AFTER_SECONDS = 3.0  # no heartbeat answer for this long: stop trusting the cache
HEARTBEAT_SECONDS = 1.0
RECONNECT_SECONDS = 0.5
STRIPES = 1024  # generation counters, by user: an invalidation voids checks in flight
VERSION_TTL_SECONDS = 86_400
logger = structlog.get_logger("bookly.session_cache")

# {session exists (0/1), snapshot or nil, version, the session's expiry (Unix ms; < 0:
#  none), the snapshot's time left (ms; < 0: none or no expiry)}
_CHECK = """
return {redis.call('EXISTS', KEYS[1]), redis.call('GET', KEYS[2]),
        redis.call('GET', KEYS[3]) or '0', redis.call('PEXPIRETIME', KEYS[1]),
        redis.call('PTTL', KEYS[2])}
"""

_REMEMBER = """
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def invalidation_channel(key_prefix: str) -> str:
    return f"{key_prefix}invalidations"


def user_message(user_id: UUID | str) -> str:
    return f"u:{user_id}"


def _snapshot(user: User) -> bytes:
    return orjson.dumps(
        {
            "uid": str(user.uid),
            "email": user.email,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
            "role": user.role.value,
            "is_verified": user.is_verified,
            "is_active": user.is_active,
        }
    )


def _from_snapshot(snapshot: bytes) -> User | None:
    try:
        data = orjson.loads(snapshot)
        return User(
            uid=UUID(data["uid"]),
            email=data["email"],
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            password_hash="",
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            role=Role(data["role"]),
            is_verified=data["is_verified"],
            is_active=data["is_active"],
        )
    except (KeyError, TypeError, ValueError):
        return None  # not in this version's shape (left by another release): a miss


class AccountSnapshots:
    """The account half of `RedisTokenStore`: snapshots in Redis, and this worker's
    `SessionCache` (`memory`, None when the worker keeps none)."""

    def __init__(
        self,
        client: aioredis.Redis,
        clock: Clock,
        key_prefix: str,
        ttl_seconds: int,
        memory: SessionCache | None,
    ) -> None:
        self._redis = client
        self._clock = clock
        self._prefix = key_prefix
        self._ttl = ttl_seconds
        self.memory = memory
        self.channel = invalidation_channel(key_prefix)
        self._check = client.register_script(_CHECK)
        self._remember = client.register_script(_REMEMBER)

    def account_key(self, user_id: UUID) -> str:
        return f"{self._prefix}account:{user_id}"

    def account_version_key(self, user_id: UUID) -> str:
        return f"{self._prefix}account-version:{user_id}"

    async def check(self, session_key: str, session_id: UUID, user_id: UUID) -> SessionCheck:
        """What memory could not answer, in one round trip: whether the session is live, the
        snapshot and its version. A live answer with a snapshot goes to memory, unless an
        invalidation of the user was heard meanwhile."""
        memory = self.memory
        if memory is not None:
            mark = memory.invalidation_mark(user_id)  # before asking: see `put`
        live, snapshot, version, expires_ms, snapshot_ms = await self._check(
            keys=[session_key, self.account_key(user_id), self.account_version_key(user_id)]
        )
        user = None if snapshot is None else _from_snapshot(snapshot)
        found = SessionCheck(bool(live), user, version.decode())
        if memory is not None and found.user is not None:
            limits = [snapshot_ms / 1000] if snapshot_ms >= 0 else []
            if expires_ms >= 0:
                limits.append(expires_ms / 1000 - self._clock.now().timestamp())
            memory.put(session_id, user_id, found, mark, min(limits, default=None))
        return found

    async def remember(self, user: User, version: str | None) -> None:
        if not self._ttl or version is None:
            return
        await self._remember(
            keys=[self.account_key(user.uid), self.account_version_key(user.uid)],
            args=[_snapshot(user), version, self._ttl],
        )

    async def forget(self, user_ids: Collection[UUID]) -> None:
        """One MULTI/EXEC, so no `check` finds the new version beside the old snapshot."""
        if not user_ids:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            for uid in user_ids:
                pipe.set(
                    self.account_version_key(uid), secrets.token_hex(8), ex=VERSION_TTL_SECONDS
                )
                pipe.delete(self.account_key(uid))
                pipe.publish(self.channel, user_message(uid))
            await pipe.execute()
        if self.memory is not None:
            for uid in user_ids:
                self.memory.drop_user(uid)


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
        expires_in: float | None,
    ) -> bool:
        """Keeps `check` for the cache's time to live, or `expires_in` seconds if sooner
        (what is left of the session and of the snapshot in Redis)."""
        if (
            not self._ttl
            or not check.live
            or check.user is None
            or mark != self.invalidation_mark(user_id)
            or not self.trusted
        ):
            return False
        lifetime = self._ttl if expires_in is None else min(self._ttl, expires_in)
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

    def __init__(self, client: aioredis.Redis, channel: str, cache: SessionCache) -> None:
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
