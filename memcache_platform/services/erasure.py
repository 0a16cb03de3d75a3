"""Erasing a user from every tier: ``DELETE /v1/users/{user_id}`` (admin)."""

from __future__ import annotations

import redis

from memcache_platform.clients.mem0_client import Mem0ClientWrapper
from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.registry import UserRegistry
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.redis_client import user_key


class ErasureService:
    """L4 first (the truth), then L3, then every Redis key of the user and the registry."""

    def __init__(
        self, mem0: Mem0ClientWrapper, l3: L3Store, client: redis.Redis, registry: UserRegistry
    ) -> None:
        self.mem0 = mem0
        self.l3 = l3
        self.client = client
        self.registry = registry

    def erase(self, user_id: str) -> dict[str, int]:
        """Erase the user; raises at the first tier that is down (calling again finishes the job)."""
        memories = self.mem0.erase_user(user_id)
        self.l3.delete_user(user_id)
        try:
            # Watermark, generations, L2 entries, hot queries, pending flag, leases: all under the tag.
            keys = list(self.client.scan_iter(match=user_key(user_id, "*"), count=500))
            if keys:
                self.client.delete(*keys)
        except redis.RedisError as exc:
            raise CacheUnavailable(f"user erased from L4 and L3, not yet from Redis: {exc}") from exc
        self.registry.forget(user_id)
        return {"memories": memories, "redis_keys": len(keys)}
