"""The users seen by writes: the Redis set ``mc:users``, one source of the user registry."""

from __future__ import annotations

import redis

from memcache_platform.tiers.redis_client import redis_errors

USERS_KEY = "mc:users"


class KnownUsers:
    """Best-effort membership; every call raises ``CacheUnavailable`` when Redis is away."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def add(self, user_id: str) -> None:
        """Record a user."""
        with redis_errors("user not registered"):
            self.client.sadd(USERS_KEY, user_id)

    def remove(self, user_id: str) -> None:
        """Drop a user (when the user is erased)."""
        with redis_errors("user not forgotten"):
            self.client.srem(USERS_KEY, user_id)

    def members(self) -> set[str]:
        """Every recorded user id."""
        with redis_errors("registry unreadable"):
            raw = self.client.smembers(USERS_KEY)
        return {m.decode() if isinstance(m, bytes) else m for m in raw}
