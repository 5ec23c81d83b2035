"""Fixed-window attempt counters in Redis: one key per counted thing, expiring with
its window."""

from __future__ import annotations

import math

import redis.asyncio as aioredis

from adapters.redis.client import REDIS_ERRORS
from application.ports.limits import LimitState

# Returns {count, milliseconds left}. The expiry is set only when the window opens,
# so further hits never extend it; a key that somehow lost its expiry gets one back.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


def _seconds_left(ttl_ms: int) -> int:
    return max(1, math.ceil(ttl_ms / 1000)) if ttl_ms > 0 else 0


class RedisRateLimiter:
    """`RateLimiter` on Redis. `hit` is one atomic script, so concurrent hits all count.
    A Redis that cannot serve now is `ServiceUnavailable`."""

    def __init__(self, client: aioredis.Redis, key_prefix: str = "bookly:") -> None:
        self._redis = client
        self._prefix = key_prefix
        self._hit = client.register_script(_HIT)

    def key(self, key: str) -> str:
        return f"{self._prefix}rate:{key}"

    async def peek(self, key: str, window_seconds: int) -> LimitState:
        with REDIS_ERRORS:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(self.key(key))
                pipe.pttl(self.key(key))
                raw_count, ttl_ms = await pipe.execute()
        count = int(raw_count or 0)
        if count == 0 or ttl_ms == -2:
            return LimitState(count=0, retry_after_seconds=0)
        if ttl_ms < 0:  # no expiry (never set by `hit`): report a whole window
            ttl_ms = window_seconds * 1000
        return LimitState(count=count, retry_after_seconds=_seconds_left(ttl_ms))

    async def hit(self, key: str, window_seconds: int) -> LimitState:
        with REDIS_ERRORS:
            count, ttl_ms = await self._hit(keys=[self.key(key)], args=[window_seconds * 1000])
        return LimitState(count=int(count), retry_after_seconds=_seconds_left(int(ttl_ms)))

    async def reset(self, key: str) -> None:
        with REDIS_ERRORS:
            await self._redis.delete(self.key(key))
