"""The user registry: every user that has memories, without making the write path depend on L3.

Three sources, unioned: users seen by writes (best effort, the Redis set ``mc:users``), users in
L3, and a reconciliation against L4 itself (what a lost registry write or a Redis flush missed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from memcache_platform.errors import CacheUnavailable, MemoryStoreError
from memcache_platform.tiers.l3_store import L3Store

log = logging.getLogger(__name__)
USERS_KEY = "mc:users"


class UserRegistry:
    """Knows every user id; each source may be down without failing the others."""

    def __init__(self, client: redis.Redis, l3: L3Store, l4_users: Callable[[], list[str]]) -> None:
        self.client = client
        self.l3 = l3
        self.l4_users = l4_users

    def seen(self, user_id: str) -> None:
        """Record a user on the write path; raises ``CacheUnavailable`` (callers ignore it)."""
        try:
            self.client.sadd(USERS_KEY, user_id)
        except redis.RedisError as exc:
            raise CacheUnavailable(f"user not registered: Redis unavailable ({exc})") from exc

    def forget(self, user_id: str) -> None:
        """Drop a user from the Redis set (when the user is erased)."""
        try:
            self.client.srem(USERS_KEY, user_id)
        except redis.RedisError as exc:
            raise CacheUnavailable(f"user not forgotten: Redis unavailable ({exc})") from exc

    def all_users(self, *, reconcile: bool = True) -> list[str]:
        """Sorted user ids from every source that answers (L4 only when ``reconcile``)."""
        users: set[str] = set()
        try:
            users.update(m.decode() if isinstance(m, bytes) else m for m in self.client.smembers(USERS_KEY))
        except redis.RedisError as exc:
            log.warning("registry: Redis unavailable (%s)", exc)
        try:
            users.update(self.l3.build_states())
        except CacheUnavailable as exc:
            log.warning("registry: L3 unavailable (%s)", exc)
        if reconcile:
            try:
                users.update(self.l4_users())
            except MemoryStoreError as exc:
                log.warning("registry: L4 users unavailable (%s)", exc)
        return sorted(users)
