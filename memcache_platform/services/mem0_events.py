"""Following the hosted platform's queued adds to their end (``tasks.follow_mem0_event``).

An accepted add is handed off at once (watermark bump, rebuild) and its user marked pending; the
worker then polls ``GET /v1/event/{id}/`` with a doubling backoff. Once the event SUCCEEDED the
memory is in L4: the hand-off runs again (a second bump, so nothing filled before is served, and a
rebuild that includes it). A FAILED event, or one not finished by the deadline, is counted and kept
for ``GET /v1/users/{id}/cache``; its marker is cleared either way, never silently dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from memcache_platform import metrics
from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.errors import CacheUnavailable, MemoryNotFound, MemoryStoreError
from memcache_platform.services.handoff import HandoffResult
from memcache_platform.tiers.mem0_events import Mem0Events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventPolicy:
    """How the worker polls: first wait, longest wait, and when it gives up (after acceptance)."""

    first_s: float
    max_s: float
    deadline_s: float

    def delay(self, attempt: int, accepted_at: float, now: float | None = None) -> float | None:
        """The wait before poll ``attempt + 1``; None once the deadline has passed."""
        if (now if now is not None else time.time()) - accepted_at > self.deadline_s:
            return None
        return min(self.first_s * 2**attempt, self.max_s)


@dataclass(frozen=True)
class EventOutcome:
    """One poll: the event's status and whether following it is over."""

    event_id: str
    status: str  # PENDING | RUNNING | SUCCEEDED | FAILED | UNREACHABLE | ABANDONED
    finished: bool
    watermark: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EventFollower:
    """Marks accepted adds, polls their events, and settles them (hand-off, or a recorded failure)."""

    def __init__(
        self,
        mem0: Callable[[], Mem0ClientWrapper],
        events: Mem0Events,
        handoff: Callable[[str], HandoffResult],
        enqueue_follow: Callable[[str, str, float], object],
        policy: EventPolicy,
    ) -> None:
        self._mem0 = mem0  # a factory: marking a write must not build Mem0 in a process that has none
        self.events = events
        self.handoff = handoff
        self.enqueue_follow = enqueue_follow
        self.policy = policy

    def accepted(self, user_id: str, event_ids: list[str]) -> None:
        """A write's adds were queued by the hosted platform: mark them, have a worker follow each."""
        metrics.MEM0_EVENTS.labels("accepted").inc(len(event_ids))
        try:
            self.events.add_pending(user_id, event_ids)
        except CacheUnavailable as exc:  # the write stands; searches simply cannot know it is pending
            log.warning("pending events of %s not marked: %s", user_id, exc)
        now = time.time()
        for event_id in event_ids:
            try:
                self.enqueue_follow(user_id, event_id, now)
            except Exception as exc:  # noqa: BLE001 - the marker's TTL and the sweep bound the damage
                log.warning("event %s of %s not followed (%s)", event_id, user_id, exc)

    def check(self, user_id: str, event_id: str) -> EventOutcome:
        """Poll once; settle the event if it ended."""
        try:
            state = self._mem0().get_event(event_id)
        except MemoryNotFound:
            return self._failed(user_id, event_id, "FAILED", "the platform does not know this event")
        except MemoryStoreError as exc:  # away for now: the next poll asks again
            log.info("event %s of %s: state unreadable (%s)", event_id, user_id, exc.message)
            return EventOutcome(event_id, "UNREACHABLE", False)
        status = state["status"]
        if status == "SUCCEEDED":
            metrics.MEM0_EVENTS.labels("succeeded").inc()
            return EventOutcome(event_id, status, True, self._settle(user_id, event_id))
        if status == "FAILED":
            return self._failed(user_id, event_id, status, state.get("detail"))
        return EventOutcome(event_id, status, False)

    def give_up(self, user_id: str, event_id: str, last_status: str) -> EventOutcome:
        """The deadline passed: record it as abandoned and let the user's L2 work again."""
        metrics.MEM0_EVENTS.labels("abandoned").inc()
        self._record(user_id, event_id, "ABANDONED", f"still {last_status} at the deadline")
        return EventOutcome(event_id, "ABANDONED", True, self._settle(user_id, event_id))

    def follow(
        self, user_id: str, event_id: str, accepted_at: float, sleep: Callable[[float], None]
    ) -> EventOutcome:
        """Poll until the event ends or the deadline passes (blocking; the Celery task retries instead)."""
        attempt = 0
        while True:
            delay = self.policy.delay(attempt, accepted_at)
            if delay is None:
                return self.give_up(user_id, event_id, "PENDING")
            sleep(delay)
            outcome = self.check(user_id, event_id)
            if outcome.finished:
                return outcome
            attempt += 1

    def _failed(self, user_id: str, event_id: str, status: str, detail: str | None) -> EventOutcome:
        metrics.MEM0_EVENTS.labels("failed").inc()
        log.warning("Mem0 event %s of %s %s: %s", event_id, user_id, status, detail)
        self._record(user_id, event_id, status, detail)
        # L4 may hold part of a failed add: bump and rebuild as after any write.
        return EventOutcome(event_id, status, True, self._settle(user_id, event_id))

    def _record(self, user_id: str, event_id: str, status: str, detail: str | None) -> None:
        try:
            self.events.record_failure(user_id, event_id, status, detail)
        except CacheUnavailable as exc:  # the metric still counts it
            log.warning("failed event %s of %s not recorded: %s", event_id, user_id, exc)

    def _settle(self, user_id: str, event_id: str) -> int | None:
        """Bump and rebuild (the hand-off) before clearing the marker, so no search fills L2 in between."""
        result = self.handoff(user_id)
        try:
            self.events.finish(user_id, event_id)
        except CacheUnavailable as exc:  # the marker's TTL ends it
            log.warning("event %s of %s not cleared: %s", event_id, user_id, exc)
        return result.watermark
