"""Coalescing of rebuilds: one per user at a time, and writes during one cause exactly one more.

``mc:{user}:pending`` says "L4 changed since the last rebuild started"; the hand-off enqueues a
rebuild only when it is the one that set the flag. ``mc:{user}:rebuild`` is the per-user lock.
"""

from __future__ import annotations

import contextlib

import redis

from memcache_platform.tiers.locks import Leases
from memcache_platform.tiers.redis_client import REDIS_ERRORS, redis_errors, user_key


class RebuildCoordinator:
    """Pending flags and the per-user rebuild lock."""

    def __init__(self, client: redis.Redis, *, lock_ttl_s: int, pending_ttl_s: int) -> None:
        self.client = client
        self.leases = Leases(client)
        self.lock_ttl_ms = lock_ttl_s * 1000
        self.pending_ttl_s = pending_ttl_s

    @staticmethod
    def pending_key(user_id: str) -> str:
        return user_key(user_id, "pending")

    @staticmethod
    def lock_key(user_id: str) -> str:
        return user_key(user_id, "rebuild")

    def mark_pending(self, user_id: str) -> bool:
        """Flag a change; True when no rebuild was pending yet (the caller should enqueue one).

        The flag expires, so a hand-off lost after setting it blocks new ones only briefly.
        """
        with redis_errors("pending flag not set"):
            return bool(self.client.set(self.pending_key(user_id), 1, nx=True, ex=self.pending_ttl_s))

    def unmark_pending(self, user_id: str) -> None:
        """Clear the flag after a failed enqueue, so the next write tries again."""
        with contextlib.suppress(*REDIS_ERRORS):  # it expires by itself
            self.client.delete(self.pending_key(user_id))

    def take_pending(self, user_id: str) -> bool:
        """Clear the flag; True if it was set. Called when a rebuild starts reading L4."""
        with redis_errors("pending flag unreadable"):
            return bool(self.client.delete(self.pending_key(user_id)))

    def is_pending(self, user_id: str) -> bool:
        with redis_errors("pending flag unreadable"):
            return bool(self.client.exists(self.pending_key(user_id)))

    def lock(self, user_id: str, owner: str | None = None) -> str | None:
        """The user's rebuild lock token, or None when another rebuild holds it.

        ``owner`` (the task id) takes over a lock held under the same id: a redelivered task's dead run.
        """
        return self.leases.acquire(self.lock_key(user_id), self.lock_ttl_ms, owner)

    def renew(self, user_id: str, token: str) -> bool:
        """Keep the lock while a rebuild progresses: a dead rebuild's lock lapses within its TTL."""
        return self.leases.renew(self.lock_key(user_id), token, self.lock_ttl_ms)

    def unlock(self, user_id: str, token: str) -> None:
        self.leases.release(self.lock_key(user_id), token)
