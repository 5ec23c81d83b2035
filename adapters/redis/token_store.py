"""Login sessions in Redis.

Keys (all under `key_prefix`):

- `session:{sid}`: a hash `{user, refresh}` (the user's uid, the current refresh token
  id), expiring (PEXPIREAT) at the session's `expires_at`; rotation never extends it.
- `user-sessions:{uid}`: the set of that user's session ids, expiring with the
  latest of its sessions. Members whose session has gone are pruned at each login.
- `claim:{key}`: one-time claims (`SET NX PXAT`).
- `account:{uid}`: the account snapshot, JSON without the password hash, for
  `account_ttl_seconds`.
- `account-version:{uid}`: a random stamp each `forget` writes anew ("0" while missing);
  it lives a day past the latest `forget`, longer than any snapshot. Random, not a
  counter: a counter that expired and started again could repeat a stamp a reader holds.

Channel `invalidations`: `s:{sid}:{uid}` when a session ends, `u:{uid}` when all of a
user's sessions end or the account changes; workers' session caches listen to it.

Scripts build session keys from set members, so they assume a single Redis server
(not Cluster), as the rest of the service does.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime
from uuid import UUID

import orjson
import redis.asyncio as aioredis

from adapters.redis.session_cache import SessionCache, user_message
from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome, SessionCheck
from domain.users import Role, User

VERSION_TTL_SECONDS = 86_400

_OPEN = """
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[4] .. sid) == 0 then redis.call('SREM', KEYS[2], sid) end
end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'refresh', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[5])
local set_expiry = redis.call('PEXPIRETIME', KEYS[2])
if set_expiry < tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[2], ARGV[3]) end
return 1
"""

# {1 = rotated, 2 = reused (session revoked), 0 = unknown; the session's user on reuse}
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return {0} end
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
  return {1}
end
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[3] .. user, ARGV[4]) end
redis.call('PUBLISH', ARGV[5], 's:' .. ARGV[4] .. ':' .. (user or ''))
return {2, user}
"""

# the session's user, if it was live
_REVOKE_SESSION = """
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[1] .. user, ARGV[2]) end
redis.call('PUBLISH', ARGV[3], 's:' .. ARGV[2] .. ':' .. (user or ''))
return user
"""

_REVOKE_USER = """
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. sid)
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], 'u:' .. ARGV[2])
return 1
"""

# {session exists (0/1), snapshot or nil, version, the session's expiry (Unix ms; < 0: none)}
_CHECK = """
return {redis.call('EXISTS', KEYS[1]), redis.call('GET', KEYS[2]),
        redis.call('GET', KEYS[3]) or '0', redis.call('PEXPIRETIME', KEYS[1])}
"""

_REMEMBER = """
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""

_OUTCOMES = {1: RotationOutcome.ROTATED, 2: RotationOutcome.REUSED}


def invalidation_channel(key_prefix: str) -> str:
    return f"{key_prefix}invalidations"


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


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


class RedisTokenStore:
    """`TokenStore` on Redis; every operation is one round trip (a script or a command).

    Account snapshots are cached for `account_ttl_seconds` (0: none are cached; `forget`
    still drops any that another process configured otherwise wrote).

    With a `cache` (one per worker process, kept true by its `InvalidationListener`), a
    session checked recently is answered from memory: no round trip at all. Whatever ends
    a session or changes an account publishes on `invalidation_channel` as part of the
    same script, so every worker's cache forgets it (see `session_cache`).
    """

    def __init__(
        self,
        client: aioredis.Redis,
        clock: Clock,
        key_prefix: str = "bookly:",
        account_ttl_seconds: int = 300,
        cache: SessionCache | None = None,
    ) -> None:
        self._redis = client
        self._clock = clock
        self._prefix = key_prefix
        self._account_ttl = account_ttl_seconds
        self._cache = cache
        self.invalidation_channel = invalidation_channel(key_prefix)
        self._check = client.register_script(_CHECK)
        self._remember = client.register_script(_REMEMBER)
        self._open = client.register_script(_OPEN)
        self._rotate = client.register_script(_ROTATE)
        self._revoke_session = client.register_script(_REVOKE_SESSION)
        self._revoke_user = client.register_script(_REVOKE_USER)

    def session_key(self, session_id: UUID) -> str:
        return f"{self._prefix}session:{session_id}"

    def user_sessions_key(self, user_id: UUID) -> str:
        return f"{self._prefix}user-sessions:{user_id}"

    def claim_key(self, key: str) -> str:
        return f"{self._prefix}claim:{key}"

    def account_key(self, user_id: UUID) -> str:
        return f"{self._prefix}account:{user_id}"

    def account_version_key(self, user_id: UUID) -> str:
        return f"{self._prefix}account-version:{user_id}"

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None:
        if expires_at <= self._clock.now():
            return  # born dead: nothing to keep
        await self._open(
            keys=[self.session_key(session_id), self.user_sessions_key(user_id)],
            args=[
                str(user_id),
                refresh_token_id,
                _epoch_ms(expires_at),
                f"{self._prefix}session:",
                str(session_id),
            ],
        )

    async def is_live(self, session_id: UUID) -> bool:
        return bool(await self._redis.exists(self.session_key(session_id)))

    async def check(self, session_id: UUID, user_id: UUID) -> SessionCheck:
        if not self._account_ttl:
            return SessionCheck(await self.is_live(session_id), None, None)
        cache = self._cache
        if cache is not None:
            known = cache.get(session_id, user_id)
            if known is not None:
                return known
            invalidation_mark = cache.invalidation_mark(user_id)
        live, snapshot, version, expires_ms = await self._check(
            keys=[
                self.session_key(session_id),
                self.account_key(user_id),
                self.account_version_key(user_id),
            ]
        )
        user = None if snapshot is None else _from_snapshot(snapshot)
        found = SessionCheck(bool(live), user, version.decode())
        if cache is not None and found.user is not None:
            expires_in = (
                expires_ms / 1000 - self._clock.now().timestamp() if expires_ms >= 0 else None
            )
            cache.put(session_id, user_id, found, invalidation_mark, expires_in)
        return found

    async def remember(self, user: User, version: str | None) -> None:
        if not self._account_ttl or version is None:
            return
        await self._remember(
            keys=[self.account_key(user.uid), self.account_version_key(user.uid)],
            args=[_snapshot(user), version, self._account_ttl],
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
                pipe.publish(self.invalidation_channel, user_message(uid))
            await pipe.execute()
        if self._cache is not None:
            for uid in user_ids:
                self._cache.drop_user(uid)

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        result = await self._rotate(
            keys=[self.session_key(session_id)],
            args=[
                presented_token_id,
                new_token_id,
                f"{self._prefix}user-sessions:",
                str(session_id),
                self.invalidation_channel,
            ],
        )
        outcome = _OUTCOMES.get(int(result[0]), RotationOutcome.UNKNOWN)
        if outcome is RotationOutcome.REUSED:
            self._dropped(session_id, result[1] if len(result) > 1 else None)
        return outcome

    async def revoke_session(self, session_id: UUID) -> None:
        user = await self._revoke_session(
            keys=[self.session_key(session_id)],
            args=[f"{self._prefix}user-sessions:", str(session_id), self.invalidation_channel],
        )
        self._dropped(session_id, user)

    async def revoke_user(self, user_id: UUID) -> None:
        await self._revoke_user(
            keys=[self.user_sessions_key(user_id)],
            args=[f"{self._prefix}session:", str(user_id), self.invalidation_channel],
        )
        if self._cache is not None:
            self._cache.drop_user(user_id)

    def _dropped(self, session_id: UUID, user: bytes | None) -> None:
        """This worker forgets a session at once; the others hear of it on the channel."""
        if self._cache is not None:
            self._cache.drop_session(session_id, UUID(user.decode()) if user else None)

    async def claim_once(self, key: str, expires_at: datetime) -> bool:
        if expires_at <= self._clock.now():
            return True  # a claim that has already lapsed stands in nobody's way
        claimed = await self._redis.set(
            self.claim_key(key), b"1", nx=True, pxat=_epoch_ms(expires_at)
        )
        return bool(claimed)
