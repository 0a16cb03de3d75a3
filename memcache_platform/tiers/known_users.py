"""The users seen by writes: the Redis set ``mc:users``, one source of the user registry.

The sweep drains it into L3's ``known_users`` table, so it holds only the users written since the
last sweep (a set of a million members would cost ~60 MB of Redis and one huge SMEMBERS).
"""

from __future__ import annotations

from collections.abc import Iterator

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

    def batches(self, count: int = 1000) -> Iterator[list[str]]:
        """The members, about ``count`` at a time (SSCAN: no single huge reply)."""
        cursor = 0
        while True:
            with redis_errors("registry unreadable"):
                cursor, raw = self.client.sscan(USERS_KEY, cursor, count=count)
            if raw:
                yield [m.decode() if isinstance(m, bytes) else m for m in raw]
            if cursor == 0:
                return

    def remove_many(self, user_ids: list[str]) -> None:
        """Drop users recorded elsewhere now (the sweep copied them into L3)."""
        if user_ids:
            with redis_errors("registry not drained"):
                self.client.srem(USERS_KEY, *user_ids)
