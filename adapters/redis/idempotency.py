"""Idempotency keys in Redis: one hash per key, `{fp}` while its request runs (expiring
with the lease), then `{fp, code, headers, body}` until the answer expires."""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis

from adapters.redis.client import REDIS_ERRORS
from application.ports.idempotency import Claim, Reservation, StoredAnswer

# {1 = owned, 2 = running, 3 = reused, 4 = done, code, headers, body}
_RESERVE = """
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
if fp ~= ARGV[1] then return {3} end
local answer = redis.call('HMGET', KEYS[1], 'code', 'headers', 'body')
if not answer[1] then return {2} end
return {4, answer[1], answer[2], answer[3]}
"""

_COMPLETE = """
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'code') == 1
then return 0 end
redis.call('HSET', KEYS[1], 'code', ARGV[2], 'headers', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""

_RELEASE = """
if redis.call('HGET', KEYS[1], 'fp') == ARGV[1] and redis.call('HEXISTS', KEYS[1], 'code') == 0
then redis.call('DEL', KEYS[1]) end
return 1
"""

_CLAIMS = {1: Claim.OWNED, 2: Claim.RUNNING, 3: Claim.REUSED}


class RedisIdempotencyStore:
    """`IdempotencyStore` on Redis: each call one script, so racing `reserve`s have one
    winner. A Redis that cannot serve now is `ServiceUnavailable`."""

    def __init__(self, client: aioredis.Redis, key_prefix: str = "bookly:") -> None:
        self._prefix = key_prefix
        self._reserve = client.register_script(_RESERVE)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    def key(self, key: str) -> str:
        return f"{self._prefix}idempotency:{key}"

    async def reserve(self, key: str, fingerprint: str, lease_seconds: float) -> Reservation:
        with REDIS_ERRORS:
            found = await self._reserve(
                keys=[self.key(key)], args=[fingerprint, int(lease_seconds * 1000)]
            )
        if int(found[0]) != 4:
            return Reservation(_CLAIMS[int(found[0])])
        headers = tuple((str(name), str(value)) for name, value in orjson.loads(found[2]))
        return Reservation(Claim.DONE, StoredAnswer(int(found[1]), headers, bytes(found[3])))

    async def complete(
        self, key: str, fingerprint: str, answer: StoredAnswer, ttl_seconds: float
    ) -> None:
        with REDIS_ERRORS:
            await self._complete(
                keys=[self.key(key)],
                args=[
                    fingerprint,
                    answer.status,
                    orjson.dumps(answer.headers),
                    answer.body,
                    int(ttl_seconds * 1000),
                ],
            )

    async def release(self, key: str, fingerprint: str) -> None:
        with REDIS_ERRORS:
            await self._release(keys=[self.key(key)], args=[fingerprint])
