"""Redis connections for the cache tiers: short timeouts, no retries, so a down Redis costs little."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def cache_redis(url: str, *, timeout_s: float) -> redis.Redis:
    """A client for best-effort cache calls: every call fails fast when Redis is away."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


def user_key(user_id: str, suffix: str) -> str:
    """A key of one user. The hash tag ``{user_id}`` keeps a user's keys on one Redis Cluster node."""
    return f"mc:{{{user_id}}}:{suffix}"
