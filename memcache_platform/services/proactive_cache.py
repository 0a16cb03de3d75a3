"""``ProactiveCacheService``: rebuild a user's cache tiers from L4."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from memcache_platform import metrics
from memcache_platform.clients.mem0_client import Mem0ClientWrapper
from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.summary import fact_of, fingerprint, summarize
from memcache_platform.tiers.l3_store import FactRow, L3Build, L3Store
from memcache_platform.tiers.watermark import Watermarks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildResult:
    """What one rebuild did: shown as the Celery task result (and so in Flower)."""

    user_id: str
    memories: int
    categories: dict[str, int]
    built_from_watermark: int | None
    written: bool  # False when a newer build was already in L3
    duration_ms: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _parse_time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


class ProactiveCacheService:
    """Reads one user's memories from L4 and replaces that user's L3 rows."""

    def __init__(self, mem0: Mem0ClientWrapper, l3: L3Store, watermarks: Watermarks) -> None:
        self.mem0 = mem0
        self.l3 = l3
        self.watermarks = watermarks

    def update_user_favorite_cache(self, user_id: str) -> RebuildResult:
        """Rebuild L3 for ``user_id``; idempotent, safe to run twice or concurrently."""
        started = time.perf_counter()
        # Read the watermark before L4: the build then claims at most what it surely includes.
        try:
            watermark: int | None = self.watermarks.current(user_id)
        except CacheUnavailable as exc:
            log.warning("rebuilding %s without its watermark: %s", user_id, exc)
            watermark = None
        records = self.mem0.get_all(user_id=user_id)
        rows = []
        for record in records:
            fact = fact_of(record)
            rows.append(
                FactRow(
                    record.id,
                    record.memory,
                    fact.category,
                    fact.topic,
                    fact.value,
                    _parse_time(record.created_at),
                )
            )
        summary = summarize(records)
        duration_ms = (time.perf_counter() - started) * 1000
        written = self.l3.replace_user(
            L3Build(
                user_id=user_id,
                facts=rows,
                summary=summary,
                built_at=datetime.now(UTC),
                built_from_watermark=watermark,
                source_fingerprint=fingerprint(records),
                build_ms=duration_ms,
            )
        )
        duration_ms = (time.perf_counter() - started) * 1000
        metrics.REBUILD_SECONDS.observe(duration_ms / 1000)
        return RebuildResult(user_id, len(records), summary.counts, watermark, written, round(duration_ms, 2))
