"""Erasing a user from every tier: ``DELETE /v1/users/{user_id}`` (admin)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.registry import UserRegistry
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.l3_feedback import FeedbackStore
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.user_keys import UserKeys


class ErasureService:
    """L4 first (the truth), then L3 (feedback too), then every Redis key of the user and the registry.

    The erasure holds the user's rebuild lock: a rebuild that read L4 before the erasure would
    otherwise write its build back into L3 and Redis after it. Rebuilds that start later read an
    empty L4 and store nothing (``L3Store.replace_user``).
    """

    def __init__(
        self,
        mem0: Mem0ClientWrapper,
        l3: L3Store,
        user_keys: UserKeys,
        registry: UserRegistry,
        coordinator: RebuildCoordinator,
        *,
        lock_wait_s: float,
    ) -> None:
        self.mem0 = mem0
        self.l3 = l3
        self.user_keys = user_keys
        self.registry = registry
        self.coordinator = coordinator
        self.lock_wait_s = lock_wait_s
        self.feedback = FeedbackStore(l3.engine)  # in L3's database: erased with it

    def erase(self, user_id: str) -> dict[str, int]:
        """Erase the user; raises at the first tier that is down (calling again finishes the job)."""
        with self._rebuilds_held(user_id) as lock_key:
            memories = self.mem0.erase_user(user_id)
            self.l3.delete_user(user_id)
            feedback = self.feedback.delete_user(user_id)
            redis_keys = self.user_keys.delete_all(user_id, keep=lock_key)
            self.registry.forget(user_id)
        return {"memories": memories, "redis_keys": redis_keys, "feedback": feedback}

    @contextlib.contextmanager
    def _rebuilds_held(self, user_id: str) -> Iterator[str | None]:
        """Hold the user's rebuild lock, waiting up to ``lock_wait_s`` for a running rebuild to end.

        Yields the lock's key (to keep while erasing), or None when it was not taken: Redis is
        down (the Redis step then fails and a retry finishes the job) or a rebuild outlived the wait.
        """
        token, deadline = None, time.monotonic() + self.lock_wait_s
        try:
            while (token := self.coordinator.lock(user_id)) is None and time.monotonic() < deadline:
                time.sleep(0.05)
        except CacheUnavailable:
            token = None
        try:
            yield self.coordinator.lock_key(user_id) if token else None
        finally:
            if token:
                self.coordinator.unlock(user_id, token)
