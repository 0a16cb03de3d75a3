"""The search's L2 lookup in one Redis round trip: one Lua script over one user's keys.

It reads the user's watermark (floored: a missing one becomes now), the published generation,
whether a hosted add is pending, and the entry under that generation, and records the query as
hot. One script rather than three calls: the hit path then costs one round trip, and the watermark,
the generation and the entry are read at one instant (no rebuild or write can land between them).

Every key it touches carries the user's hash tag ``mc:{user_id}``, so on a Redis Cluster the script
runs on the user's one slot. The entry key depends on the generation read inside the script, so it
is built there from a prefix and suffix (same hash tag, same slot) rather than passed in ``KEYS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from memcache_platform.tiers.hot_queries import RECORD_FN, HotQueries, QuerySpec
from memcache_platform.tiers.l2_results import L2Entry, ResultCache, UserCacheView
from memcache_platform.tiers.mem0_events import Mem0Events
from memcache_platform.tiers.redis_client import redis_errors, user_key
from memcache_platform.tiers.watermark import READ_FLOORED_FN, Watermarks, now_us

# KEYS: watermark, generation hash, hot queries, pending Mem0 events.
# ARGV: now (µs), entry key prefix and suffix (around the generation), then record_hot's arguments.
_LOOKUP = (
    READ_FLOORED_FN
    + RECORD_FN
    + """
local wm = read_floored(KEYS[1], ARGV[1])
local published = redis.call('HMGET', KEYS[2], 'gen', 'built_from', 'built_at')
record_hot(KEYS[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
local pending = redis.call('EXISTS', KEYS[4])
local entry = redis.call('GET', ARGV[2] .. (published[1] or '0') .. ARGV[3])
return {wm, published[1], published[2], published[3], pending, entry}
"""
)


@dataclass(frozen=True)
class Lookup:
    """What one search found in L2: the user's view, the entry (if any) and the pending flag."""

    view: UserCacheView
    entry: L2Entry | None
    pending: bool
    watermark_lost: bool = False  # missing in Redis until this lookup floored it to now


class L2Lookup:
    """Run the lookup script; a Redis failure is ``CacheUnavailable`` like every tier call."""

    def __init__(self, l2: ResultCache, hot: HotQueries) -> None:
        self.hot = hot
        self._script = l2.client.register_script(_LOOKUP)

    def find(self, user_id: str, qhash: str, spec: QuerySpec) -> Lookup:
        """The user's cache view and entry for ``qhash``, recording ``spec`` as asked."""
        keys = [
            Watermarks.key(user_id),
            ResultCache.generation_key(user_id),
            HotQueries.key(user_id),
            Mem0Events.pending_key(user_id),
        ]
        # ResultCache.entry_key(user, gen, qhash) split around the generation.
        prefix, suffix = user_key(user_id, "g"), f":q:{qhash}"
        now = now_us()
        with redis_errors("L2 unavailable"):
            reply = self._script(keys=keys, args=[now, prefix, suffix, *self.hot.record_args(spec)])
        watermark, gen, built_from, built_at, pending, raw = reply
        view = UserCacheView.from_reply(watermark, gen, built_from, built_at)
        entry = L2Entry.loads(raw) if raw is not None else None
        return Lookup(view, entry, bool(pending), watermark_lost=int(watermark) == now)
