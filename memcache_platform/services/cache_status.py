"""What each tier holds for one user: ``GET /v1/users/{user_id}/cache``."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.hot_queries import HotQueries
from memcache_platform.tiers.l1_embeddings import EmbeddingCache
from memcache_platform.tiers.l2_results import ResultCache
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.mem0_events import Mem0Events
from memcache_platform.tiers.watermark import watermark_time


class CacheStatusService:
    """Reports watermark, builds, generation, lag, hot queries and entry counts per tier."""

    def __init__(
        self,
        l1: EmbeddingCache,
        l2: ResultCache,
        l3: L3Store,
        hot: HotQueries,
        coordinator: RebuildCoordinator,
        *,
        hot_top_n: int,
        mem0_events: Mem0Events | None = None,
    ) -> None:
        self.l1, self.l2, self.l3, self.hot, self.coordinator = l1, l2, l3, hot, coordinator
        self.hot_top_n = hot_top_n
        self.mem0_events = mem0_events

    def status(self, user_id: str) -> dict[str, Any]:
        """The user's status; a tier that cannot be read is reported as such, not raised."""
        out: dict[str, Any] = {"user_id": user_id, "tiers": {"redis": "ok", "l3": "ok"}}
        watermark = None
        entries: dict[str, int | None] = {"L1": None, "L2": None, "L3": None}
        try:
            view = self.l2.state(user_id)
            watermark = view.watermark
            hot = self.hot.top(user_id, self.hot_top_n)
            entries["L2"] = self.l2.count(user_id, view.generation)
            entries["L1"] = self.l1.count_cached([spec.query for spec in hot])
            out.update(
                watermark=view.watermark,
                generation=view.generation,
                generation_built_from=view.generation_built_from,
                pending=self.coordinator.is_pending(user_id),
                hot_queries=[asdict(spec) for spec in hot],
            )
            if self.mem0_events is not None:
                out["mem0_events"] = {
                    "pending": sorted(self.mem0_events.pending(user_id)),
                    "failed": self.mem0_events.failures(user_id),
                }
        except CacheUnavailable:
            out["tiers"]["redis"] = "unavailable"
        try:
            entry = self.l3.get(user_id)
        except CacheUnavailable:
            entry = None
            out["tiers"]["l3"] = "unavailable"
        built_from = entry.built_from_watermark if entry else None
        if entry is not None:
            entries["L3"] = entry.summary.memory_count
        stale = watermark is not None and watermark > (built_from or 0)
        last_write = watermark_time(watermark)
        out.update(
            built_from=built_from,
            built_at=entry.built_at.isoformat() if entry else None,
            stale=stale,
            lag_s=round(max(0.0, time.time() - last_write), 3) if stale and last_write else 0.0,
            entries=entries,
        )
        return out
