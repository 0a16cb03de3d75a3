"""Following the hosted platform's queued adds to their end (``tasks.follow_mem0_event``).

An accepted add is handed off at once (watermark bump, rebuild) and its user marked pending; the
worker then polls ``GET /v1/event/{id}/`` with a doubling backoff. Once the event SUCCEEDED the
memory is in L4: the hand-off runs again (a second bump, so nothing filled before is served, and a
rebuild that includes it). A FAILED event, or one not finished by the deadline, is counted and kept
for ``GET /v1/users/{id}/cache``; its marker is cleared either way, never silently dropped.

Strict writes (flow B) poll their events in the request instead (``wait``), for a bound, and then
``conclude`` them: what did not finish in time is handed to the worker as above.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
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
    detail: str | None = None
    memory_ids: list[str] = field(default_factory=list)  # of a SUCCEEDED event: what it wrote

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

    def accepted(self, user_id: str, event_ids: list[str], *, follow: bool = True) -> None:
        """A write's adds were queued by the hosted platform: mark them, have a worker follow each."""
        metrics.MEM0_EVENTS.labels("accepted").inc(len(event_ids))
        try:
            self.events.add_pending(user_id, event_ids)
        except CacheUnavailable as exc:  # the write stands; searches simply cannot know it is pending
            log.warning("pending events of %s not marked: %s", user_id, exc)
        if follow:
            self._follow_later(user_id, event_ids)

    def poll(self, event_id: str) -> EventOutcome:
        """Ask the platform once for the event's state; no side effects."""
        try:
            state = self._mem0().get_event(event_id)
        except MemoryNotFound:
            return EventOutcome(event_id, "FAILED", True, detail="the platform does not know this event")
        except MemoryStoreError as exc:  # away for now: the next poll asks again
            log.info("event %s: state unreadable (%s)", event_id, exc.message)
            return EventOutcome(event_id, "UNREACHABLE", False)
        status = state["status"]
        ids = [str(r["id"]) for r in state.get("results") or [] if r.get("id")]
        return EventOutcome(
            event_id, status, status in ("SUCCEEDED", "FAILED"), None, state.get("detail"), ids
        )

    def check(self, user_id: str, event_id: str) -> EventOutcome:
        """Poll once; settle the event if it ended."""
        outcome = self.poll(event_id)
        if outcome.status == "SUCCEEDED":
            metrics.MEM0_EVENTS.labels("succeeded").inc()
            return replace(outcome, watermark=self._settle(user_id, event_id))
        if outcome.status == "FAILED":
            return self._failed(user_id, event_id, outcome.status, outcome.detail)
        return outcome

    def wait(
        self, event_ids: list[str], bound_s: float, sleep: Callable[[float], None] = time.sleep
    ) -> list[EventOutcome]:
        """Flow B: poll the events with the backoff for at most ``bound_s``; the last outcome of each."""
        deadline = time.monotonic() + bound_s
        outcomes = {e: EventOutcome(e, "PENDING", False) for e in event_ids}
        attempt = 0
        while (left := deadline - time.monotonic()) > 0:
            sleep(min(self.policy.first_s * 2**attempt, self.policy.max_s, left))
            for event_id in [e for e, o in outcomes.items() if not o.finished]:
                outcomes[event_id] = self.poll(event_id)
            if all(o.finished for o in outcomes.values()):
                break
            attempt += 1
        return list(outcomes.values())

    def conclude(self, user_id: str, outcomes: list[EventOutcome]) -> None:
        """After ``wait`` (and flow B's own bump and rebuild): clear what ended, record what failed,
        and hand what is still pending to the worker, as after a flow A write."""
        for outcome in outcomes:
            if outcome.status == "SUCCEEDED":
                metrics.MEM0_EVENTS.labels("succeeded").inc()
            elif outcome.status == "FAILED":
                metrics.MEM0_EVENTS.labels("failed").inc()
                self._record(user_id, outcome.event_id, outcome.status, outcome.detail)
            if outcome.finished:
                self._unmark(user_id, outcome.event_id)
        self._follow_later(user_id, [o.event_id for o in outcomes if not o.finished])

    def _follow_later(self, user_id: str, event_ids: list[str]) -> None:
        now = time.time()
        for event_id in event_ids:
            try:
                self.enqueue_follow(user_id, event_id, now)
            except Exception as exc:  # noqa: BLE001 - the marker's TTL and the sweep bound the damage
                log.warning("event %s of %s not followed (%s)", event_id, user_id, exc)

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
        return EventOutcome(event_id, status, True, self._settle(user_id, event_id), detail)

    def _record(self, user_id: str, event_id: str, status: str, detail: str | None) -> None:
        try:
            self.events.record_failure(user_id, event_id, status, detail)
        except CacheUnavailable as exc:  # the metric still counts it
            log.warning("failed event %s of %s not recorded: %s", event_id, user_id, exc)

    def _settle(self, user_id: str, event_id: str) -> int | None:
        """Bump and rebuild (the hand-off) before clearing the marker, so no search fills L2 in between."""
        result = self.handoff(user_id)
        self._unmark(user_id, event_id)
        return result.watermark

    def _unmark(self, user_id: str, event_id: str) -> None:
        try:
            self.events.finish(user_id, event_id)
        except CacheUnavailable as exc:  # the marker's TTL ends it
            log.warning("event %s of %s not cleared: %s", event_id, user_id, exc)
