"""Hosted Mem0 adds still in flight, and those that failed, per user (``mc:{user}:mem0:*``).

While a user has a pending event, searches of that user bypass L2 and do not fill it: L4 does not
have the accepted memory yet, and an entry filled now would be served after the event landed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from memcache_platform.tiers.redis_client import redis_errors, user_key

FAILED_KEPT = 20
"""How many failed events per user ``GET /v1/users/{id}/cache`` shows (newest first)."""


class Mem0Events:
    """Pending event ids (a hash: id -> accepted at) with a TTL, and a capped list of failed ones."""

    def __init__(self, client: redis.Redis, *, pending_ttl_s: int) -> None:
        self.client = client
        # A lost follow task must not make the user bypass L2 forever: the marker expires.
        self.pending_ttl_s = pending_ttl_s

    @staticmethod
    def pending_key(user_id: str) -> str:
        return user_key(user_id, "mem0:pending")

    @staticmethod
    def failed_key(user_id: str) -> str:
        return user_key(user_id, "mem0:failed")

    def add_pending(self, user_id: str, event_ids: list[str]) -> None:
        """Mark accepted adds of the user as in flight."""
        now = time.time()
        with redis_errors("pending Mem0 events not marked"):
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(self.pending_key(user_id), mapping=dict.fromkeys(event_ids, now))
            pipe.expire(self.pending_key(user_id), self.pending_ttl_s)
            pipe.execute()

    def finish(self, user_id: str, event_id: str) -> None:
        """The event ended (SUCCEEDED, FAILED or given up): it no longer holds the user's L2 back."""
        with redis_errors("pending Mem0 event not cleared"):
            self.client.hdel(self.pending_key(user_id), event_id)

    def pending(self, user_id: str) -> dict[str, float]:
        """Event id -> when it was accepted (epoch seconds)."""
        with redis_errors("pending Mem0 events unreadable"):
            raw = self.client.hgetall(self.pending_key(user_id))
        return {_text(k): float(v) for k, v in raw.items()}

    def has_pending(self, user_id: str) -> bool:
        with redis_errors("pending Mem0 events unreadable"):
            return bool(self.client.exists(self.pending_key(user_id)))

    def record_failure(self, user_id: str, event_id: str, status: str, detail: str | None = None) -> None:
        """Keep a failed (or abandoned) event where the cache status shows it."""
        entry = {"event_id": event_id, "status": status, "detail": detail, "at": round(time.time(), 3)}
        with redis_errors("failed Mem0 event not recorded"):
            pipe = self.client.pipeline(transaction=True)
            pipe.lpush(self.failed_key(user_id), json.dumps(entry))
            pipe.ltrim(self.failed_key(user_id), 0, FAILED_KEPT - 1)
            pipe.execute()

    def failures(self, user_id: str) -> list[dict[str, Any]]:
        with redis_errors("failed Mem0 events unreadable"):
            return [json.loads(item) for item in self.client.lrange(self.failed_key(user_id), 0, -1)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
