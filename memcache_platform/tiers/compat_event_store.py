"""The Mem0-compatible API's async-add events in Redis (``mc:event:{id}``, kept a day)."""

from __future__ import annotations

import json
from typing import Any

import redis

from memcache_platform.tiers.redis_client import redis_errors

EVENT_TTL_S = 86_400


class CompatEventStore:
    """Read and write one event record; any web process answers for any event."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @staticmethod
    def key(event_id: str) -> str:
        return f"mc:event:{event_id}"

    def get(self, event_id: str) -> dict[str, Any] | None:
        """The event as stored, or None when unknown (or expired)."""
        with redis_errors("event unreadable"):
            raw = self.client.get(self.key(event_id))
        return None if raw is None else json.loads(raw)

    def save(self, event: dict[str, Any]) -> None:
        with redis_errors("event not stored"):
            self.client.set(self.key(event["id"]), json.dumps(event), ex=EVENT_TTL_S)
