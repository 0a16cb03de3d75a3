"""``ProactiveCacheService``: rebuild a user's tiers from L4 (L3 rows, then L2 under a new generation).

Coalescing: one rebuild per user at a time (a Redis lock). A write during a rebuild leaves the
pending flag set, and the rebuild runs once more at its end; a rebuild that finds the lock taken
returns at once ("coalesced"), and one that finds L3 and L2 built from the current watermark
returns "current". Before reading L4 a rebuild lets a burst of writes settle (bounded), so a burst
of N writes costs at most two rebuilds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from memcache_platform import metrics
from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.domain import FactRow
from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.search import result_of
from memcache_platform.services.summary import fact_of, fingerprint, summarize
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.hot_queries import HotQueries
from memcache_platform.tiers.l2_results import L2Entry, ResultCache, query_hash
from memcache_platform.tiers.l3_store import L3Build, L3Store
from memcache_platform.tiers.mem0_events import Mem0Events
from memcache_platform.tiers.watermark import Watermarks, watermark_time

log = logging.getLogger(__name__)


@dataclass
class RebuildResult:
    """What one task run did: the Celery task result, so Flower shows it."""

    user_id: str
    outcome: str  # "rebuilt" | "current" | "coalesced" | "deferred" (a hosted add is pending)
    rebuilds: int = 0
    memories: int | None = None
    categories: dict[str, int] = field(default_factory=dict)
    built_from_watermark: int | None = None
    l3_written: bool = False
    generation: int | None = None
    l2_entries: int | None = None
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _parse_time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RebuildTuning:
    """How rebuilds warm L2 and wait for bursts."""

    hot_top_n: int = 10
    settle_s: float = 0.1
    max_delay_s: float = 1.0


class ProactiveCacheService:
    """Reads one user's memories from L4 and rebuilds that user's L3 rows and L2 generation."""

    def __init__(
        self,
        mem0: Mem0ClientWrapper,
        l3: L3Store,
        watermarks: Watermarks,
        *,
        l2: ResultCache | None = None,
        hot: HotQueries | None = None,
        coordinator: RebuildCoordinator | None = None,
        tuning: RebuildTuning = RebuildTuning(),
        events: Mem0Events | None = None,
    ) -> None:
        """``events``: the hosted adds in flight; a rebuild of a user with one defers to its follower."""
        self.events = events
        self.mem0 = mem0
        self.l3 = l3
        self.watermarks = watermarks
        self.l2 = l2
        self.hot = hot
        self.coordinator = coordinator
        self.tuning = tuning

    def update_user_favorite_cache(
        self, user_id: str, *, force: bool = False, owner: str | None = None
    ) -> RebuildResult:
        """Rebuild the user's tiers unless they are current (``force`` rebuilds anyway); idempotent.

        ``owner`` names the run (the Celery task id) in the user's lock, so a redelivery of a task
        whose worker died mid-rebuild takes its own lock over instead of waiting for it to lapse.
        """
        started = time.perf_counter()
        result = RebuildResult(user_id, "current")
        token = self._lock(user_id, owner)
        if token is None:
            # Another run holds the user: flag the change so that run goes once more at its end.
            self._call(lambda: self.coordinator.mark_pending(user_id))
            result.outcome = "coalesced"
        else:
            try:
                while True:
                    self._settle(user_id)
                    # Writes from here on flag pending again and cause one more round.
                    self._call(lambda: self.coordinator.take_pending(user_id))
                    watermark = self._watermark(user_id)
                    if not (force and result.rebuilds == 0) and self._is_current(user_id, watermark):
                        break
                    if not force and self._awaits_event(user_id):
                        # L4 lacks the user's accepted add: the follower's settle hand-off rebuilds
                        # once it lands. Its flag, set after this check, means it came: go again.
                        result.outcome = "deferred"
                        if not self._call(lambda: self.coordinator.is_pending(user_id)):
                            break
                        continue
                    self._rebuild_once(
                        user_id, watermark, result, keepalive=lambda: self._renew(user_id, token)
                    )
                    if not self._call(lambda: self.coordinator.is_pending(user_id)):
                        break
                if result.rebuilds and watermark is None and self.coordinator is not None:
                    # Built while Redis was away: no reader can use a build from an unknown watermark,
                    # and the pending flag could not be taken, so writes coalesce into this run until
                    # the flag lapses. Fail, and the task retries with a watermark once Redis answers
                    # (K1 saw 42 s after a 10 s SIGSTOP without this); the sweep covers the rest.
                    raise CacheUnavailable(
                        f"rebuilt {user_id} without Redis: watermark and pending flag unread"
                    )
            finally:
                if token:
                    self.coordinator.unlock(user_id, token)
        result.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        metrics.REBUILDS.labels(result.outcome).inc(result.rebuilds or 1)
        return result

    def rebuild_now(self, user_id: str) -> RebuildResult:
        """Rebuild inline, without coalescing: flow B (strict writes) must include its own write.

        Safe beside a concurrent rebuild: L3 keeps the newest build and L2 only publishes forward.
        """
        started = time.perf_counter()
        result = RebuildResult(user_id, "rebuilt")
        watermark = self.watermarks.for_read(user_id)  # strict: a Redis failure fails the request
        self._rebuild_once(user_id, watermark, result)
        result.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        metrics.REBUILDS.labels("strict").inc()
        return result

    def _awaits_event(self, user_id: str) -> bool:
        """True while the user has a hosted add pending (its follower hands off again when it ends)."""
        if self.events is None:
            return False
        try:
            return self.events.has_pending(user_id)
        except CacheUnavailable:
            return False  # cannot tell: rebuild, as without hosted adds

    def _renew(self, user_id: str, token: str | None) -> None:
        if token and self.coordinator is not None:
            self.coordinator.renew(user_id, token)

    def _call(self, fn):  # type: ignore[no-untyped-def]
        """Run a coordination call; without Redis (or coordinator) rebuilds go on uncoordinated."""
        if self.coordinator is None:
            return False
        try:
            return fn()
        except CacheUnavailable as exc:
            log.warning("rebuild coordination unavailable: %s", exc)
            return False

    def _lock(self, user_id: str, owner: str | None = None) -> str | None:
        """The lock token; "" when there is no Redis to lock in (rebuild anyway, L3 has its own lock)."""
        if self.coordinator is None:
            return ""
        try:
            return self.coordinator.lock(user_id, owner)
        except CacheUnavailable:
            return ""

    def _watermark(self, user_id: str) -> int | None:
        try:
            # Floored as readers floor it: a build from "0" would never match their watermark.
            return self.watermarks.for_read(user_id)
        except CacheUnavailable as exc:
            log.warning("rebuilding %s without its watermark: %s", user_id, exc)
            return None

    def _settle(self, user_id: str) -> None:
        """Wait until no write came for ``settle_s``, at most ``max_delay_s``: a burst ends first."""
        deadline = time.time() + self.tuning.max_delay_s
        while True:
            last_write = watermark_time(self._watermark(user_id))
            now = time.time()
            if last_write is None or now - last_write >= self.tuning.settle_s or now >= deadline:
                return
            time.sleep(max(0.0, min(self.tuning.settle_s - (now - last_write), deadline - now)))

    def _is_current(self, user_id: str, watermark: int | None) -> bool:
        """True when L3 and the published L2 generation were both built from ``watermark``."""
        if watermark is None:
            return False
        try:
            entry = self.l3.get(user_id)
            if entry is None or (entry.built_from_watermark or 0) < watermark:
                return False
            if self.l2 is None:
                return True
            built_from = self.l2.state(user_id).generation_built_from
            return built_from is not None and built_from >= watermark
        except CacheUnavailable:
            return False

    def _rebuild_once(
        self,
        user_id: str,
        watermark: int | None,
        result: RebuildResult,
        *,
        keepalive: Callable[[], None] = lambda: None,
    ) -> None:
        """Read L4 once; replace L3 rows in one transaction; warm and publish the next L2 generation."""
        started = time.perf_counter()
        read_at = datetime.now(UTC)  # the build reflects L4 as of this moment (the sweep compares it)
        records = self.mem0.get_all(user_id=user_id)
        rows = [
            FactRow(r.id, r.memory, f.category, f.topic, f.value, _parse_time(r.created_at))
            for r, f in ((r, fact_of(r)) for r in records)
        ]
        summary = summarize(records)
        keepalive()
        result.l3_written = self.l3.replace_user(
            L3Build(
                user_id=user_id,
                facts=rows,
                summary=summary,
                built_at=read_at,
                built_from_watermark=watermark,
                source_fingerprint=fingerprint(records),
                build_ms=(time.perf_counter() - started) * 1000,
            )
        )
        result.outcome = "rebuilt"
        result.rebuilds += 1
        result.memories, result.categories, result.built_from_watermark = (
            len(records),
            summary.counts,
            watermark,
        )
        keepalive()
        if records or result.l3_written:  # an erased user's late rebuild publishes no generation
            self._warm_l2(user_id, watermark, result, keepalive)
        metrics.REBUILD_SECONDS.observe(time.perf_counter() - started)
        if (last_write := watermark_time(watermark)) is not None:
            metrics.REBUILD_LAG_SECONDS.observe(max(0.0, time.time() - last_write))

    def _warm_l2(
        self, user_id: str, watermark: int | None, result: RebuildResult, keepalive: Callable[[], None]
    ) -> None:
        """Search the user's hot queries under generation g+1, then publish g+1 in one step."""
        if self.l2 is None or self.hot is None or watermark is None:
            return
        try:
            generation = self.l2.state(user_id).generation + 1
            entries = {}
            for spec in self.hot.top(user_id, self.tuning.hot_top_n):
                keepalive()
                hits = self.mem0.search(spec.query, user_id=user_id, limit=spec.limit, run_id=spec.session_id)
                entries[query_hash(spec.query, spec.limit, spec.session_id)] = L2Entry(
                    watermark, [result_of(h) for h in hits], time.time()
                )
            self.l2.put(user_id, generation, entries)
            if self.l2.publish(user_id, generation, watermark):
                result.generation, result.l2_entries = generation, len(entries)
        except CacheUnavailable as exc:
            log.warning("L2 of %s not warmed: %s", user_id, exc)
