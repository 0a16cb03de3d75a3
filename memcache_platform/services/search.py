"""Search: L2 when its entry is as new as the user's watermark, else L4 (through L1), single flight.

A search never fails because Redis is down: it degrades to a plain L4 search and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from memcache_platform import metrics
from memcache_platform.clients.mem0 import Mem0ClientWrapper, MemoryRecord
from memcache_platform.errors import CacheUnavailable, MemoryStoreError
from memcache_platform.services.summary import fact_of
from memcache_platform.tiers.hot_queries import HotQueries, QuerySpec
from memcache_platform.tiers.l2_lookup import L2Lookup
from memcache_platform.tiers.l2_results import Hits, L2Entry, ResultCache, query_hash
from memcache_platform.tiers.locks import Leases
from memcache_platform.tiers.mem0_events import Mem0Events
from memcache_platform.tiers.redis_client import user_key

log = logging.getLogger(__name__)
POLL_S = 0.01


@dataclass(frozen=True)
class SearchAnswer:
    """Search results and the tier that produced them."""

    hits: Hits  # an L2 hit's as the JSON text Redis holds (the API sends it as it is)
    tier: str  # "L2" | "L4"
    watermark: int | None
    generation: int | None
    degraded: bool = False  # True when Redis was unavailable
    stale: bool = False  # True when L4 was down and an L2 entry older than the latest write answered
    pending: bool = False  # True while a hosted add of the user is queued: L4 may not show it yet

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.hits.items


def result_of(record: MemoryRecord) -> dict[str, Any]:
    """The JSON shape of one search hit."""
    fact = fact_of(record)
    return {"id": record.id, "memory": record.memory, "score": record.score, "category": fact.category}


class SearchService:
    """The read path of ``GET /v1/users/{user_id}/search``."""

    def __init__(
        self,
        mem0: Mem0ClientWrapper,
        l2: ResultCache,
        hot: HotQueries,
        leases: Leases,
        *,
        lease_ms: int,
        wait_ms: int,
        pending: Mem0Events | None = None,
        on_watermark_lost: Callable[[str], None] | None = None,
    ) -> None:
        """``pending`` (hosted backend): users with queued adds, whose searches skip L2.

        The lookup reads the pending flag in its one round trip; without ``pending`` it is ignored.
        ``on_watermark_lost(user)`` asks for a rebuild when the lookup found the watermark gone.
        """
        self.mem0 = mem0
        self.on_watermark_lost = on_watermark_lost
        self.pending = pending
        self.l2 = l2
        self.lookup = L2Lookup(l2, hot)
        self.leases = leases
        self.lease_ms = lease_ms
        self.wait_s = wait_ms / 1000

    def search(self, user_id: str, query: str, *, limit: int, session_id: str | None = None) -> SearchAnswer:
        """Top ``limit`` memories of the user for ``query``."""
        qhash = query_hash(query, limit, session_id)
        try:
            # One round trip: watermark, generation, pending flag and entry, and the hot-query record.
            found = self.lookup.find(user_id, qhash, QuerySpec(query, limit, session_id))
        except CacheUnavailable as exc:
            log.warning("search of %s: Redis unavailable (%s), answering from L4", user_id, exc)
            return self._answer(self._l4(user_id, query, limit, session_id), "L4", None, None, degraded=True)
        view, entry = found.view, found.entry
        if found.watermark_lost and self.on_watermark_lost is not None:
            # Redis lost it: the user's L3 build and L2 generation now miss until a rebuild. Whoever
            # floors the watermark first must ask (a later favourites read finds it present). The
            # search cannot tell a built user from one never written without reading L3; the latter
            # costs one rebuild of nobody, once (the floored watermark stays).
            self.on_watermark_lost(user_id)
        if self.pending is not None and found.pending:
            # Read-your-writes while an add is queued: never an entry from before the write, and no
            # fill from an L4 that lacks it (it would outlive the event under the new watermark).
            metrics.CACHE_LOOKUPS.labels("L2", "bypass_pending").inc()
            results = self._l4(user_id, query, limit, session_id)
            return self._answer(results, "L4", view.watermark, view.generation, pending=True)
        try:
            fresh = entry is not None and entry.watermark >= view.watermark
            metrics.CACHE_LOOKUPS.labels("L2", "hit" if fresh else "miss").inc()
            if fresh:
                return self._answer(entry.hits, "L2", view.watermark, view.generation)
            return self._single_flight(
                user_id, query, limit, session_id, qhash, view.generation, view.watermark
            )
        except CacheUnavailable as exc:  # Redis went away mid-search
            log.warning("search of %s: Redis unavailable (%s), answering from L4", user_id, exc)
            return self._answer(self._l4(user_id, query, limit, session_id), "L4", None, None, degraded=True)
        except MemoryStoreError:
            if entry is None:
                raise  # nothing cached: the caller gets Mem0's error (503)
            # L4 is down: an entry older than the latest write beats no answer, and says so.
            return self._answer(entry.hits, "L2", view.watermark, view.generation, stale=True)

    def _single_flight(
        self, user_id: str, query: str, limit: int, session_id: str | None, qhash: str, gen: int, wm: int
    ) -> SearchAnswer:
        """One caller per key queries L4; the others wait briefly for its entry."""
        lease_key = user_key(user_id, f"lease:{qhash}")
        token = self.leases.acquire(lease_key, self.lease_ms)
        if token is None:
            deadline = time.monotonic() + self.wait_s
            while time.monotonic() < deadline:
                time.sleep(POLL_S)
                entry = self.l2.get(user_id, gen, qhash)
                if entry is not None and entry.watermark >= wm:
                    return self._answer(entry.hits, "L2", wm, gen)
            log.info("single flight of %s: no answer within %.2f s, querying L4", user_id, self.wait_s)
        try:
            results = self._l4(user_id, query, limit, session_id)
            self.l2.put(user_id, gen, {qhash: L2Entry(wm, results, time.time())})
        finally:
            if token is not None:
                self.leases.release(lease_key, token)
        return self._answer(results, "L4", wm, gen)

    def _l4(self, user_id: str, query: str, limit: int, session_id: str | None) -> list[dict[str, Any]]:
        return [
            result_of(r) for r in self.mem0.search(query, user_id=user_id, limit=limit, run_id=session_id)
        ]

    @staticmethod
    def _answer(
        results: list[dict[str, Any]] | Hits,
        tier: str,
        wm: int | None,
        gen: int | None,
        *,
        degraded: bool = False,
        stale: bool = False,
        pending: bool = False,
    ) -> SearchAnswer:
        metrics.TIER_READS.labels("search", tier).inc()
        hits = results if isinstance(results, Hits) else Hits(results)
        return SearchAnswer(hits, tier, wm, gen, degraded, stale, pending)
