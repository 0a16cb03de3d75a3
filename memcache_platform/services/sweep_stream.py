"""The sweep planner at scale: pages of L3's ``known_users``, never a scan of Mem0's table per sweep.

Each page (1,000 users) costs one keyset query on L3 and one pipeline of watermark GETs; only the
users due for a rebuild are kept. Mem0's table is read by ``L4Reconciler`` alone, once per
reconcile interval: it finds users that only L4 knows (writes that bypassed the platform, a
registry write lost with Redis) and stores L4's per-user counts, which the pages compare against
builds older than that count (writes whose hand-off and watermark bump were both lost).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from memcache_platform.errors import CacheUnavailable, MemoryStoreError
from memcache_platform.services.sweep import SweepPlan, classify
from memcache_platform.tiers.known_users import KnownUsers
from memcache_platform.tiers.l3_users import L3Users, UserRow
from memcache_platform.tiers.watermark import Watermarks

log = logging.getLogger(__name__)

StatsPages = Callable[[], Iterable[list[tuple[str, int, datetime | None]]]]


@dataclass
class PlanPage:
    """One page of a streamed plan: its due users in priority order, and how many it skipped."""

    dirty: list[tuple[int, str]] = field(default_factory=list)  # (watermark, user): oldest write first
    aged: list[tuple[datetime, str]] = field(default_factory=list)  # (built at, user): oldest first
    skipped: int = 0


class L4Reconciler:
    """Copies L4's users (and, on the local backend, their counts) into ``known_users``, rarely."""

    def __init__(
        self,
        users: L3Users,
        *,
        interval_s: float,
        stats_pages: StatsPages | None = None,
        list_users: Callable[[], list[str]] | None = None,
    ) -> None:
        """``stats_pages`` (local backend) or ``list_users`` (hosted: membership, no counts)."""
        self.users = users
        self.interval_s = interval_s
        self.stats_pages = stats_pages
        self.list_users = list_users

    def due(self, now: datetime) -> bool:
        """True when the last reconciliation is older than the interval (or there was none)."""
        last = self.users.last_reconciled()
        return last is None or (now - last).total_seconds() >= self.interval_s

    def run(self) -> bool:
        """Reconcile now; False (logged) when L4 did not answer: the next sweep tries again."""
        started, clock = datetime.now(UTC), time.perf_counter()
        try:
            if self.stats_pages is not None:
                for page in self.stats_pages():
                    self.users.record_l4(page, checked_at=started)
                self.users.close_l4(started)
            elif self.list_users is not None:
                self.users.add_many(self.list_users())
        except MemoryStoreError as exc:
            log.warning("sweep: L4 not reconciled (%s); planning from L3 and the registry", exc)
            return False
        duration_ms = (time.perf_counter() - clock) * 1000
        self.users.mark_reconciled(started, duration_ms)
        log.info("sweep: L4 reconciled into known_users in %.0f ms", duration_ms)
        return True


class StreamingPlanner:
    """Plans a sweep page by page from ``known_users``: memory bounded by a page plus the due users."""

    def __init__(
        self,
        users: L3Users,
        registry: KnownUsers,
        watermarks: Watermarks,
        *,
        max_age_s: float,
        reconciler: L4Reconciler | None = None,
        page_size: int = 1000,
    ) -> None:
        self.users = users
        self.registry = registry
        self.watermarks = watermarks
        self.max_age_s = max_age_s
        self.reconciler = reconciler
        self.page_size = page_size

    def pages(self, *, now: datetime | None = None) -> Iterator[PlanPage]:
        """Drain the Redis registry into L3, reconcile L4 if due, then classify users a page at a time."""
        now = now or datetime.now(UTC)
        lost = self._registry_lost()
        self._drain_registry()
        if self.reconciler is not None and (lost or self.reconciler.due(now)):
            self.reconciler.run()
        for rows in self.users.pages(self.page_size):
            yield self._classify(rows, now)

    def plan(self, users: Iterable[str] | None = None, *, now: datetime | None = None) -> SweepPlan:
        """The whole sweep (or only ``users``) as one ``SweepPlan`` holding only the due users."""
        now = now or datetime.now(UTC)
        if users is None:
            pages: Iterable[PlanPage] = self.pages(now=now)
        else:
            wanted = sorted(set(users))
            pages = (
                self._classify(self.users.rows(wanted[i : i + self.page_size]), now)
                for i in range(0, len(wanted), self.page_size)
            )
        dirty: list[tuple[int, str]] = []
        aged: list[tuple[datetime, str]] = []
        plan = SweepPlan()
        for page in pages:
            dirty += page.dirty
            aged += page.aged
            plan.skipped += page.skipped
        plan.dirty = [user for _, user in sorted(dirty)]
        plan.aged = [user for _, user in sorted(aged)]
        return plan

    def _registry_lost(self) -> bool:
        """True when Redis lost the registry since the last sweep: the users only it knew are in L4.

        A Redis that restarted empty lost the set with the users written since the last sweep, and
        the broker's queued hand-offs with it (one Redis under ``make run``); their writes are only
        in L4, so the sweep reads L4 now rather than at the next reconcile interval.
        """
        try:
            kept = self.registry.survived()
        except CacheUnavailable:
            return False  # Redis away: nothing to tell; the drain waits for the next sweep as well
        if not kept:
            log.warning("sweep: the Redis registry was lost since the last sweep: reconciling L4 now")
        return not kept

    def _drain_registry(self) -> None:
        """Move users seen by writes since the last sweep from the Redis set into ``known_users``."""
        try:
            for batch in self.registry.batches(self.page_size):
                self.users.add_many(batch)  # first: a user leaves the set only once L3 has it
                self.registry.remove_many(batch)
        except CacheUnavailable as exc:  # Redis down: its users wait in the set for the next sweep
            log.warning("sweep: registry not drained (%s)", exc)

    def _classify(self, rows: list[UserRow], now: datetime) -> PlanPage:
        try:
            marks: dict[str, int] = self.watermarks.current_many([r.user_id for r in rows])
        except CacheUnavailable as exc:
            # Without watermarks nothing can be proven current: treat every user as due.
            log.warning("sweep without watermarks: %s", exc)
            marks = {}
        page = PlanPage()
        for row in rows:
            mark = marks.get(row.user_id)
            verdict = classify(
                row.user_id,
                row.state,
                mark,
                row.marked_at,
                _l4_after_build(row),
                now=now,
                max_age_s=self.max_age_s,
            )
            if verdict == "dirty":
                page.dirty.append((mark or 0, row.user_id))
            elif verdict == "aged":
                page.aged.append((row.state.built_at, row.user_id))  # type: ignore[union-attr]
            else:
                page.skipped += 1
        return page


def _l4_after_build(row: UserRow) -> tuple[int, datetime | None] | None:
    """L4's counts if taken after the build: an older count says nothing about a newer build."""
    if row.state is None or row.l4_checked_at is None or row.l4_count is None:
        return None
    if row.l4_checked_at <= row.state.built_at:
        return None
    return row.l4_count, row.l4_newest_at
