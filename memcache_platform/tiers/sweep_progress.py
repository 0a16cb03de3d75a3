"""Progress of a sweep in the Redis hash ``mc:sweep:<id>``: written by the workers, read by people."""

from __future__ import annotations

import logging
from typing import Any

import redis

from memcache_platform.tiers.locks import Leases
from memcache_platform.tiers.redis_client import REDIS_ERRORS

log = logging.getLogger(__name__)
PROGRESS_TTL_S = 24 * 3600
RUNNING_KEY = "mc:sweep-running"  # outside mc:sweep:* (the progress records)


class SweepProgress:
    """Best-effort progress records: a Redis failure loses progress, never a rebuild."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @staticmethod
    def key(sweep_id: str) -> str:
        return f"mc:sweep:{sweep_id}"

    def claim(self, sweep_id: str, ttl_s: int) -> str | None:
        """Make ``sweep_id`` the one running sweep; the id of the running one when another holds it."""
        try:
            if self.client.set(RUNNING_KEY, sweep_id, nx=True, ex=ttl_s):
                return None
            running = self.client.get(RUNNING_KEY)
        except REDIS_ERRORS:
            return None  # without Redis there is nothing to coordinate on: run
        return running.decode() if running else None

    def release(self, sweep_id: str) -> None:
        """End ``sweep_id``'s claim, if it still holds it (a lapsed claim may be another sweep's now)."""
        Leases(self.client).release(RUNNING_KEY, sweep_id)

    def read(self, sweep_id: str) -> dict[str, Any]:
        """The sweep's progress ({} when unknown or Redis is down)."""
        try:
            raw = self.client.hgetall(self.key(sweep_id))
        except REDIS_ERRORS:
            return {}
        return {k.decode(): _number(v.decode()) for k, v in raw.items()}

    def write(self, sweep_id: str, values: dict[str, Any]) -> None:
        """Set fields of the sweep's record."""
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hset(self.key(sweep_id), mapping={k: str(v) for k, v in values.items()})
            pipe.expire(self.key(sweep_id), PROGRESS_TTL_S)
            pipe.execute()
        except REDIS_ERRORS as exc:
            log.warning("sweep %s: progress not recorded (%s)", sweep_id, exc)

    def advance(self, sweep_id: str, *, done: int, failed: int) -> dict[str, Any]:
        """Count users a chunk finished; returns the progress after it."""
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hincrby(self.key(sweep_id), "done", done)
            pipe.hincrby(self.key(sweep_id), "failed", failed)
            pipe.execute()
        except REDIS_ERRORS as exc:
            log.warning("sweep %s: progress not recorded (%s)", sweep_id, exc)
        return self.read(sweep_id)


def _number(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
