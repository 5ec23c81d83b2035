"""Login sessions in Redis.

Keys (all under `key_prefix`):

- `session:{sid}`: a hash `{user, refresh}` (the user's uid, the current refresh token
  id), expiring (PEXPIREAT) at the session's `expires_at`; rotation never extends it.
- `user-sessions:{uid}`: the set of that user's session ids, expiring with the
  latest of its sessions. Members whose session has gone are pruned at each login.
- `claim:{key}`: one-time claims (`SET NX PXAT`).
- `account:{uid}`, `account-version:{uid}`: account snapshots (`auth_cache`).

Channel `invalidations`: `s:{sid}:{uid}` when a session ends, `u:{uid}` when all of a
user's sessions end or the account changes. How long a change takes to be seen by every
worker is promised once, in `auth_cache`.

Scripts build session keys from set members, so they assume a single Redis server
(not Cluster), as the rest of the service does.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

import redis.asyncio as aioredis

from adapters.redis.auth_cache import AccountSnapshots, SessionCache
from adapters.redis.client import REDIS_ERRORS
from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome, SessionCheck
from domain.users import User

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

_OUTCOMES = {1: RotationOutcome.ROTATED, 2: RotationOutcome.REUSED}


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisTokenStore:
    """`TokenStore` on Redis; every operation is one round trip (a script or a command).

    Account snapshots are cached for `account_ttl_seconds` (0: none are cached; `forget`
    still drops any that another process configured otherwise wrote), by `accounts`.
    With a `cache` (one per worker process, kept true by its `InvalidationListener`), a
    session checked recently is answered from memory: no round trip at all. A Redis that
    cannot serve now is `ServiceUnavailable`.
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
        self.accounts = AccountSnapshots(client, clock, key_prefix, account_ttl_seconds, cache)
        self.invalidation_channel = self.accounts.channel
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

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None:
        if expires_at <= self._clock.now():
            return  # born dead: nothing to keep
        with REDIS_ERRORS:
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
        with REDIS_ERRORS:
            return bool(await self._redis.exists(self.session_key(session_id)))

    async def check(self, session_id: UUID, user_id: UUID) -> SessionCheck:
        if not self._account_ttl:
            return SessionCheck(await self.is_live(session_id), None, None)
        cache = self._cache
        if cache is not None:
            known = cache.get(session_id, user_id)
            if known is not None:
                return known
        with REDIS_ERRORS:
            return await self.accounts.check(self.session_key(session_id), session_id, user_id)

    async def remember(self, user: User, version: str | None) -> None:
        with REDIS_ERRORS:
            await self.accounts.remember(user, version)

    async def forget(self, user_ids: Collection[UUID]) -> None:
        with REDIS_ERRORS:
            await self.accounts.forget(user_ids)

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        with REDIS_ERRORS:
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
        with REDIS_ERRORS:
            user = await self._revoke_session(
                keys=[self.session_key(session_id)],
                args=[f"{self._prefix}user-sessions:", str(session_id), self.invalidation_channel],
            )
        self._dropped(session_id, user)

    async def revoke_user(self, user_id: UUID) -> None:
        with REDIS_ERRORS:
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
        with REDIS_ERRORS:
            claimed = await self._redis.set(
                self.claim_key(key), b"1", nx=True, pxat=_epoch_ms(expires_at)
            )
        return bool(claimed)
