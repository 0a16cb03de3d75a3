"""Every Redis key of one user, found by the user's hash tag: what erasing a user removes."""

from __future__ import annotations

import redis

from memcache_platform.tiers.redis_client import redis_errors, scan_user

SCAN_BATCH = 500


class UserKeys:
    """Watermark, generations, L2 entries, hot queries, pending flag, leases: all under ``mc:{<user>}``."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def delete_all(self, user_id: str, *, keep: str | None = None) -> int:
        """Delete every key of the user but ``keep`` (a lock the caller releases); how many there were."""
        with redis_errors("user erased from L4 and L3, not yet from Redis"):
            matched = scan_user(self.client, user_id, "*", count=SCAN_BATCH)
            keys = [k for k in matched if k.decode() != keep]
            for start in range(0, len(keys), SCAN_BATCH):  # bounded DELs, never one unbounded call
                self.client.delete(*keys[start : start + SCAN_BATCH])  # one slot: the user's tag
        return len(keys)
