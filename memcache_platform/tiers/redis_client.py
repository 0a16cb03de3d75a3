"""Redis connections for the cache tiers: short timeouts, no retries, a circuit breaker per server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.backoff import NoBackoff
from redis.connection import Connection, parse_url
from redis.retry import Retry

from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.circuit_breaker import CircuitBreaker, breaker_for


def cache_pool(
    url: str, *, timeout_s: float, breaker_open_s: float = 2.0, breaker_probe_s: float = 0.5
) -> redis.ConnectionPool:
    """A pool for best-effort calls; while its server's breaker is open, each call fails at once.

    ``breaker_open_s`` 0 turns the breaker off (each call then waits up to ``timeout_s``).
    """
    options: dict[str, object] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    if breaker_open_s > 0:
        breaker = breaker_for(
            url, open_s=breaker_open_s, probe_interval_s=breaker_probe_s, probe_timeout_s=timeout_s
        )
        base = parse_url(url).get("connection_class", Connection)
        options["connection_class"] = breaker.connection_class(base)
    return redis.ConnectionPool.from_url(url, **options)


def cache_redis(
    url: str, *, timeout_s: float, breaker_open_s: float = 2.0, breaker_probe_s: float = 0.5
) -> redis.Redis:
    """A client for best-effort cache calls: every call fails fast when Redis is away."""
    pool = cache_pool(
        url, timeout_s=timeout_s, breaker_open_s=breaker_open_s, breaker_probe_s=breaker_probe_s
    )
    return redis.Redis(connection_pool=pool)


def breaker_of(client: redis.Redis) -> CircuitBreaker | None:
    """The circuit breaker a client's connections go through, if any."""
    return getattr(client.connection_pool.connection_class, "breaker", None)


def user_key(user_id: str, suffix: str) -> str:
    """A key of one user. The hash tag ``{user_id}`` keeps a user's keys on one Redis Cluster node."""
    return f"mc:{{{user_id}}}:{suffix}"


@contextmanager
def redis_errors(what: str) -> Iterator[None]:
    """Turn a Redis failure inside the block into ``CacheUnavailable("<what>: Redis unavailable (…)")``.

    The tiers' one translation: callers above the tiers see only the platform's own errors.
    """
    try:
        yield
    except redis.RedisError as exc:
        raise CacheUnavailable(f"{what}: Redis unavailable ({exc})") from exc
