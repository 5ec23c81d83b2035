"""Where each user's last write left the primary's WAL, for reading it back on replicas
(`adapters/sqlalchemy/replicas.py`): one key per user, kept as long as a replica may lag
and still be read from, so every API process sends that user's reads where the write is."""

from __future__ import annotations

import redis.asyncio as aioredis

from adapters.redis.client import REDIS_ERRORS

# Positions as 16 hex digits, which compare in Lua as they do as numbers (Lua's numbers
# are doubles, exact only to 2**53); a later write never moves a user's position back.
_REMEMBER = """
local known = redis.call('GET', KEYS[1])
if not known or known < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class RedisWritePositions:
    """A Redis that cannot serve now is `ServiceUnavailable`."""

    def __init__(self, client: aioredis.Redis, key_prefix: str, ttl_seconds: float) -> None:
        self._client = client
        self._prefix = key_prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._remember = client.register_script(_REMEMBER)

    def key(self, user: str) -> str:
        return f"{self._prefix}written:{user}"

    async def remember(self, user: str, position: int) -> None:
        with REDIS_ERRORS:
            await self._remember(keys=[self.key(user)], args=[f"{position:016x}", self._ttl_ms])

    async def floor(self, user: str) -> int:
        """The position `user`'s reads must see (0: no write of theirs is recent)."""
        with REDIS_ERRORS:
            found = await self._client.get(self.key(user))
        return int(found, 16) if found else 0
