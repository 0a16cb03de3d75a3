"""The hand-off after a write: bump the watermark, enqueue the rebuild. Best effort, bounded in time."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from memcache_platform import metrics
from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.outbox import HandoffOutbox
from memcache_platform.services.registry import UserRegistry
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.watermark import Watermarks

log = logging.getLogger(__name__)

# Shared by all requests of the process; the caller waits for its hand-off no longer than the timeout.
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="handoff")


@dataclass(frozen=True)
class HandoffResult:
    """What happened after a write: the new watermark (None if not bumped) and the enqueue outcome."""

    watermark: int | None
    # "queued" | "coalesced" (a rebuild is already pending) | "outbox" (retried in the background)
    # | "failed" | "timeout" (no outbox configured)
    handoff: str


class Handoff:
    """Runs after a successful L4 write; never raises to the caller."""

    def __init__(
        self,
        watermarks: Watermarks,
        coordinator: RebuildCoordinator | None,
        enqueue: Callable[[str], object],
        timeout_s: float,
        *,
        registry: UserRegistry | None = None,
        outbox_size: int = 0,
    ) -> None:
        self.outbox = HandoffOutbox(self.redeliver, maxlen=outbox_size) if outbox_size > 0 else None
        self.registry = registry
        self.watermarks = watermarks
        self.coordinator = coordinator
        self.enqueue = enqueue
        self.timeout_s = timeout_s

    def __call__(self, user_id: str) -> HandoffResult:
        if self.outbox is not None and len(self.outbox):
            # An outage is known: join the outbox without touching the network.
            self.outbox.add(user_id)
            metrics.HANDOFFS.labels("outbox").inc()
            return HandoffResult(None, "outbox")
        watermark: int | None
        try:
            watermark = self.watermarks.bump(user_id)
        except CacheUnavailable as exc:
            watermark = None
            metrics.WATERMARK_BUMP_FAILURES.inc()
            log.warning("watermark of %s not bumped: %s", user_id, exc)
            if self.outbox is not None:
                # Redis is away: skip the enqueue too (under `make run` the broker is that same Redis,
                # and its publish would wait for timeout_s). The outbox redoes bump and enqueue.
                self.outbox.add(user_id)
                metrics.HANDOFFS.labels("outbox").inc()
                return HandoffResult(None, "outbox")
        self._register(user_id)
        outcome = "coalesced" if not self._first_pending(user_id) else self._enqueue(user_id)
        if outcome in ("failed", "timeout") and self.coordinator is not None:
            self.coordinator.unmark_pending(user_id)  # so the next write enqueues again
        if self.outbox is not None and (watermark is None or outcome in ("failed", "timeout")):
            self.outbox.add(user_id)
            outcome = "outbox" if outcome in ("failed", "timeout") else outcome
        metrics.HANDOFFS.labels(outcome).inc()
        return HandoffResult(watermark, outcome)

    def redeliver(self, user_id: str) -> bool:
        """Redo a failed hand-off (from the outbox): True once both the bump and the enqueue worked."""
        try:
            self.watermarks.bump(user_id)
        except CacheUnavailable:
            return False
        self._register(user_id)
        if not self._first_pending(user_id):
            return True  # a rebuild is pending and will include the write
        if self._enqueue(user_id) == "queued":
            return True
        if self.coordinator is not None:
            self.coordinator.unmark_pending(user_id)
        return False

    def rebuild_lost(self, user_id: str) -> None:
        """A read found the user's watermark gone (Redis restarted empty, flushed): rebuild, unwaited.

        No bump: nothing was written. Readers of the same user coalesce on the pending flag, so a
        Redis loss costs one rebuild per user read, at once, rather than one at the next sweep. The
        enqueue runs on the hand-off pool and the read does not wait for it.
        """
        if self._first_pending(user_id):
            metrics.LOST_WATERMARK_REBUILDS.inc()
            _executor.submit(self._enqueue_or_unmark, user_id)

    def _enqueue_or_unmark(self, user_id: str) -> None:
        try:
            self.enqueue(user_id)
        except Exception as exc:  # noqa: BLE001 - best effort: the next read or the sweep tries again
            log.warning("rebuild of %s after a lost watermark not queued: %s", user_id, exc)
            if self.coordinator is not None:
                self.coordinator.unmark_pending(user_id)

    def _register(self, user_id: str) -> None:
        if self.registry is not None:
            with contextlib.suppress(CacheUnavailable):  # the sweep reconciles against L4
                self.registry.seen(user_id)

    def _first_pending(self, user_id: str) -> bool:
        """True unless a rebuild is already pending for the user (then it will include this write)."""
        if self.coordinator is None:
            return True
        try:
            return self.coordinator.mark_pending(user_id)
        except CacheUnavailable:
            return True  # cannot tell: enqueue, rebuilds are idempotent

    def _enqueue(self, user_id: str) -> str:
        future = _executor.submit(self.enqueue, user_id)
        try:
            future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            log.warning(
                "hand-off of %s timed out after %.2f s; the beat sweep will heal it", user_id, self.timeout_s
            )
            return "timeout"
        except Exception as exc:  # noqa: BLE001 - a failed hand-off must never fail the write
            log.warning(
                "hand-off of %s failed (%s: %s); the beat sweep will heal it",
                user_id,
                type(exc).__name__,
                exc,
            )
            return "failed"
        return "queued"
