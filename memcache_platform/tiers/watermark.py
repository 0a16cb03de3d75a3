"""Per-user write watermarks (``mc:{user}:wm``): what L2 entries and L3 builds are compared against."""

from __future__ import annotations

import time

import redis

from memcache_platform.tiers.redis_client import is_cluster, redis_errors, user_key

# INCR, but never below the current time in microseconds: if Redis loses the key (restart without
# persistence), the next write still lands above every watermark recorded before the loss.
_BUMP = """
local v = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if v < floor then
  redis.call('SET', KEYS[1], ARGV[1])
  return floor
end
return v
"""

# A reader's GET: a missing watermark is unknown, not 0. It may have been evicted or flushed after
# a write that every older entry misses; set it to now (as a write now would) so none of them passes.
# As a Lua function too, so the search's one-trip lookup (tiers/l2_lookup.py) runs the same rule.
READ_FLOORED_FN = """
local function read_floored(key, now)
  local v = redis.call('GET', key)
  if v then return tonumber(v) end
  redis.call('SET', key, now)
  return tonumber(now)
end
"""
READ_FLOORED = READ_FLOORED_FN + "return read_floored(KEYS[1], ARGV[1])\n"


def now_us() -> int:
    """The time floor of watermarks, in microseconds."""
    return time.time_ns() // 1000


def watermark_time(watermark: int | None) -> float | None:
    """When the write that set ``watermark`` happened (epoch seconds), if the watermark tells."""
    if watermark is None or watermark < 10**15:  # below the time floor: a plain counter
        return None
    return watermark / 1_000_000


class Watermarks:
    """Read and bump user watermarks in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._bump = client.register_script(_BUMP)
        self._read_floored = client.register_script(READ_FLOORED)

    @staticmethod
    def key(user_id: str) -> str:
        return user_key(user_id, "wm")

    def bump(self, user_id: str) -> int:
        """Mark a new L4 write of the user; returns the new watermark."""
        with redis_errors("watermark not bumped"):
            return int(self._bump(keys=[self.key(user_id)], args=[now_us()]))

    def current_many(self, user_ids: list[str], *, batch: int = 1000) -> dict[str, int]:
        """Watermarks of many users: one MGET per batch, or a pipeline of GETs on a Redis Cluster.

        Each key sits on its own user's slot, so a cluster cannot MGET them; a single Redis can,
        and there one MGET is ~5x cheaper than a pipeline of GETs (the sweep reads a million).
        """
        marks: dict[str, int] = {}
        cluster = is_cluster(self.client)
        with redis_errors("watermarks unreadable"):
            for start in range(0, len(user_ids), batch):
                chunk = user_ids[start : start + batch]
                if cluster:
                    pipe = self.client.pipeline(transaction=False)
                    for user_id in chunk:
                        pipe.get(self.key(user_id))
                    values = pipe.execute()
                else:
                    values = self.client.mget([self.key(u) for u in chunk])
                marks.update((u, int(v) if v is not None else 0) for u, v in zip(chunk, values, strict=True))
        return marks

    def for_read(self, user_id: str) -> int:
        """The watermark a cached answer must have been built from; a missing one becomes now.

        What readers compare against: after an eviction or a flush every entry built before is a
        miss, never a stale hit. Writers and the sweep use ``current`` (a missing one reads 0).
        """
        with redis_errors("watermark unreadable"):
            return int(self._read_floored(keys=[self.key(user_id)], args=[now_us()]))

    def for_read_noting_loss(self, user_id: str) -> tuple[int, bool]:
        """``for_read``, and whether the watermark was missing (this read set it to now).

        The script returns the ``now`` it was given exactly when it set the key; a watermark equal to
        that microsecond already is as good as lost too (its only cost: one more rebuild).
        """
        now = now_us()
        with redis_errors("watermark unreadable"):
            value = int(self._read_floored(keys=[self.key(user_id)], args=[now]))
        return value, value == now

    def current(self, user_id: str) -> int:
        """The user's watermark; 0 for a user with no recorded write."""
        with redis_errors("watermark unreadable"):
            value = self.client.get(self.key(user_id))
        return int(value) if value is not None else 0
