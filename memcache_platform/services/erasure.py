"""Erasing a user from every tier: ``DELETE /v1/users/{user_id}`` (admin)."""

from __future__ import annotations

from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.services.registry import UserRegistry
from memcache_platform.tiers.l3_feedback import FeedbackStore
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.user_keys import UserKeys


class ErasureService:
    """L4 first (the truth), then L3 (feedback too), then every Redis key of the user and the registry."""

    def __init__(
        self, mem0: Mem0ClientWrapper, l3: L3Store, user_keys: UserKeys, registry: UserRegistry
    ) -> None:
        self.mem0 = mem0
        self.l3 = l3
        self.user_keys = user_keys
        self.registry = registry
        self.feedback = FeedbackStore(l3.engine)  # in L3's database: erased with it

    def erase(self, user_id: str) -> dict[str, int]:
        """Erase the user; raises at the first tier that is down (calling again finishes the job)."""
        memories = self.mem0.erase_user(user_id)
        self.l3.delete_user(user_id)
        feedback = self.feedback.delete_user(user_id)
        redis_keys = self.user_keys.delete_all(user_id)
        self.registry.forget(user_id)
        return {"memories": memories, "redis_keys": redis_keys, "feedback": feedback}
