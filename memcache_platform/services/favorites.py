"""The favourites read: L3 when it is current, else L4, else stale L3, saying which."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from memcache_platform import metrics
from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.errors import CacheUnavailable, MemoryStoreError
from memcache_platform.services.summary import FavoriteSummary, summarize
from memcache_platform.tiers.l3_store import L3Entry, L3Store
from memcache_platform.tiers.watermark import Watermarks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FavoritesAnswer:
    """A favourites summary and where it came from."""

    user_id: str
    summary: FavoriteSummary
    tier: str  # "L3" | "L4"
    stale: bool
    built_at: datetime
    built_from: int | None
    watermark: int | None
    degraded: bool = False  # True when Redis was unavailable (the watermark could not be read)

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            **self.summary.to_dict(),
            "built_at": self.built_at.isoformat(),
            "built_from": self.built_from,
            "watermark": self.watermark,
            "stale": self.stale,
            "tier": self.tier,
            "degraded": self.degraded,
        }


class FavoritesService:
    """Serves a user's favourites summary."""

    def __init__(
        self,
        mem0: Mem0ClientWrapper,
        l3: L3Store,
        watermarks: Watermarks,
        *,
        on_watermark_lost: Callable[[str], None] | None = None,
    ) -> None:
        """``on_watermark_lost(user)``: asks for a rebuild when a read finds the watermark gone."""
        self.mem0 = mem0
        self.l3 = l3
        self.watermarks = watermarks
        self.on_watermark_lost = on_watermark_lost

    def get(self, user_id: str) -> FavoritesAnswer:
        """L3 if built from the user's latest write; otherwise rebuild the answer from L4."""
        try:
            watermark: int | None
            watermark, lost = self.watermarks.for_read_noting_loss(user_id)  # a lost one is not 0
        except CacheUnavailable:
            watermark, lost = None, False  # cannot prove L3 current: prefer L4
        try:
            entry = self.l3.get(user_id)
        except CacheUnavailable as exc:
            log.warning("favourites of %s: L3 unavailable (%s), answering from L4", user_id, exc)
            entry = None
        if lost and entry is not None and self.on_watermark_lost is not None:
            # Redis lost it (restarted empty, flushed): from now on this build is a miss until a
            # rebuild reads the floored watermark, so ask for one rather than wait for a sweep. (A
            # user never built has no build to heal: reading unknown users queues nothing.)
            self.on_watermark_lost(user_id)
        if entry is not None and watermark is not None and (entry.built_from_watermark or 0) >= watermark:
            return self._answer(user_id, entry, watermark, stale=False)
        try:
            summary = summarize(self.mem0.get_all(user_id=user_id))
        except MemoryStoreError:
            if entry is None:
                raise
            return self._answer(user_id, entry, watermark, stale=True)  # L4 down: old L3 beats nothing
        metrics.TIER_READS.labels("favorites", "L4").inc()
        return FavoritesAnswer(
            user_id, summary, "L4", False, datetime.now(UTC), watermark, watermark, watermark is None
        )

    def global_favorites(
        self, *, topic: str | None, limit: int
    ) -> tuple[dict[str, list[dict]], datetime | None]:
        """The most common favourites across users per topic (L3's view), and its refresh time."""
        return self.l3.global_favorites(topic=topic, limit=limit)

    @staticmethod
    def _answer(user_id: str, entry: L3Entry, watermark: int | None, *, stale: bool) -> FavoritesAnswer:
        metrics.TIER_READS.labels("favorites", "L3").inc()
        return FavoritesAnswer(
            user_id,
            entry.summary,
            "L3",
            stale,
            entry.built_at,
            entry.built_from_watermark,
            watermark,
            watermark is None,
        )
