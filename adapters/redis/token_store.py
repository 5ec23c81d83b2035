"""Login sessions in Redis.

Keys (all under `key_prefix`):

- `session:{sid}`: a hash `{user, refresh}` (the user's uid, the current refresh token
  id), expiring (PEXPIREAT) at the session's `expires_at`; rotation never extends it.
- `user-sessions:{uid}`: the set of that user's session ids, expiring with the
  latest of its sessions. Members whose session has gone are pruned at each login.
- `claim:{key}`: one-time claims (`SET NX PXAT`).

Scripts build session keys from set members, so they assume a single Redis server
(not Cluster), as the rest of the service does.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import redis.asyncio as aioredis

from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome

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

# 1 = rotated, 2 = reused (session revoked), 0 = unknown
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'refresh')
if not current then return 0 end
if current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
  return 1
end
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[3] .. user, ARGV[4]) end
return 2
"""

_REVOKE_SESSION = """
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[1] .. user, ARGV[2]) end
return 1
"""

_REVOKE_USER = """
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. sid)
end
redis.call('DEL', KEYS[1])
return 1
"""

_OUTCOMES = {1: RotationOutcome.ROTATED, 2: RotationOutcome.REUSED}


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisTokenStore:
    """`TokenStore` on Redis; every operation is one round trip (a script or a command)."""

    def __init__(self, client: aioredis.Redis, clock: Clock, key_prefix: str = "bookly:") -> None:
        self._redis = client
        self._clock = clock
        self._prefix = key_prefix
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
        await self._open(
            keys=[self.session_key(session_id), self.user_sessions_key(user_id)],
            args=[str(user_id), refresh_token_id, _epoch_ms(expires_at),
                  f"{self._prefix}session:", str(session_id)],
        )

    async def is_live(self, session_id: UUID) -> bool:
        return bool(await self._redis.exists(self.session_key(session_id)))

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        result = await self._rotate(
            keys=[self.session_key(session_id)],
            args=[presented_token_id, new_token_id, f"{self._prefix}user-sessions:",
                  str(session_id)],
        )
        return _OUTCOMES.get(int(result), RotationOutcome.UNKNOWN)

    async def revoke_session(self, session_id: UUID) -> None:
        await self._revoke_session(
            keys=[self.session_key(session_id)],
            args=[f"{self._prefix}user-sessions:", str(session_id)],
        )

    async def revoke_user(self, user_id: UUID) -> None:
        await self._revoke_user(
            keys=[self.user_sessions_key(user_id)], args=[f"{self._prefix}session:"]
        )

    async def claim_once(self, key: str, expires_at: datetime) -> bool:
        if expires_at <= self._clock.now():
            return True  # a claim that has already lapsed stands in nobody's way
        claimed = await self._redis.set(
            self.claim_key(key), b"1", nx=True, pxat=_epoch_ms(expires_at)
        )
        return bool(claimed)
