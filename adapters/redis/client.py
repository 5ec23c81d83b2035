"""Creating the Redis client, and telling "Redis is down" apart from other errors."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.unavailable import Unavailable

HEALTH_CHECK_INTERVAL_SECONDS = 10


def create_redis(url: str, *, timeout: float = 1.5, max_connections: int = 50) -> aioredis.Redis:
    """A client that fails fast instead of hanging when the server is gone.

    Connecting and each command give up after `timeout` seconds, and nothing is
    retried (the caller answers 503 at once rather than after a series of backoffs).
    Idle pooled connections are PINGed before reuse after `HEALTH_CHECK_INTERVAL_SECONDS`,
    so a restarted server is picked up again without errors. The pool is bounded and
    blocking: a burst of requests waits (at most `timeout`) for a free connection
    instead of failing or opening connections without limit.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry_on_timeout=False,
        retry=Retry(NoBackoff(), 0),
        decode_responses=False,
    )
    return aioredis.Redis.from_pool(pool)  # the client owns the pool and closes it


def is_unavailable_error(exc: BaseException) -> bool:
    """True when `exc` means the server cannot be reached (or answered too slowly)."""
    return isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError)


REDIS_ERRORS = Unavailable(
    "redis", "The cache (Redis) is unavailable; try again shortly.", is_unavailable_error
)
