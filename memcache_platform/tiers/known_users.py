"""The users seen by writes: the Redis set ``mc:users``, one source of the user registry.

The sweep drains it into L3's ``known_users`` table, so it holds only the users written since the
last sweep (a set of a million members would cost ~60 MB of Redis and one huge SMEMBERS).
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from memcache_platform.tiers.redis_client import redis_errors

USERS_KEY = "mc:users"
# A member that is no user id (ids never hold NUL): the sweep adds it and never removes it, so its
# absence says Redis lost the set (restarted empty, evicted) with any users only it knew.
KEPT = "\x00kept"


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

    def survived(self) -> bool:
        """False when this set was lost since the last call (or this is the first): then L4 must be read.

        One SADD of the ``KEPT`` member, on the set's own key, so on a cluster it is lost exactly
        when the set is.
        """
        with redis_errors("registry unreadable"):
            return not self.client.sadd(USERS_KEY, KEPT)

    def members(self) -> set[str]:
        """Every recorded user id."""
        with redis_errors("registry unreadable"):
            raw = self.client.smembers(USERS_KEY)
        return {m for m in map(_text, raw) if m != KEPT}

    def batches(self, count: int = 1000) -> Iterator[list[str]]:
        """The members, about ``count`` at a time (SSCAN: no single huge reply)."""
        cursor = 0
        while True:
            with redis_errors("registry unreadable"):
                cursor, raw = self.client.sscan(USERS_KEY, cursor, count=count)
            if batch := [m for m in map(_text, raw) if m != KEPT]:
                yield batch
            if cursor == 0:
                return

    def remove_many(self, user_ids: list[str]) -> None:
        """Drop users recorded elsewhere now (the sweep copied them into L3)."""
        if user_ids:
            with redis_errors("registry not drained"):
                self.client.srem(USERS_KEY, *user_ids)


def _text(member: bytes | str) -> str:
    return member.decode() if isinstance(member, bytes) else member
