"""The hand-off outbox: hand-offs that failed (Redis or the broker away), retried in the background.

Bounded: when full it drops the oldest user and counts it (the sweep finds that user later by
comparing L4 with L3). While it holds anything, new writes join it without touching Redis or the
broker, so an outage costs each write nothing; one background thread retries with exponential backoff.
``on_add`` (the durable dirty mark, ``services.dirty_marks``) runs synchronously for each added
user, so the hand-off survives this process being killed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from memcache_platform import metrics

log = logging.getLogger(__name__)


class HandoffOutbox:
    """A deduplicated, bounded FIFO of user ids whose hand-off must be redone."""

    def __init__(
        self,
        redeliver: Callable[[str], bool],
        *,
        maxlen: int,
        base_delay_s: float = 0.25,
        max_delay_s: float = 10.0,
        on_add: Callable[[str], object] | None = None,
    ) -> None:
        self.redeliver = redeliver
        self.on_add = on_add
        self.maxlen = maxlen
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._users: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._users)

    def add(self, user_id: str) -> None:
        """Queue a user's hand-off for redelivery; drops the oldest when full."""
        if self.on_add is not None:
            self.on_add(user_id)  # outside the lock: it waits on PostgreSQL, bounded
        with self._lock:
            self._users[user_id] = None
            self._users.move_to_end(user_id)
            while len(self._users) > self.maxlen:
                dropped, _ = self._users.popitem(last=False)
                metrics.OUTBOX_DROPPED.inc()
                log.warning("hand-off outbox full: dropped %s (the sweep will heal it)", dropped)
            metrics.OUTBOX_SIZE.set(len(self._users))
        self._ensure_thread()
        self._wake.set()

    def retry_now(self) -> None:
        """Skip the current backoff (for example when an operator knows Redis is back)."""
        self._wake.set()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="handoff-outbox", daemon=True)
                self._thread.start()

    def _next(self) -> str | None:
        with self._lock:
            return next(iter(self._users), None)

    def _run(self) -> None:
        delay = self.base_delay_s
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            while (user_id := self._next()) is not None:
                if not self.redeliver(user_id):
                    delay = min(delay * 2, self.max_delay_s)  # still down: back off
                    break
                with self._lock:
                    if next(iter(self._users), None) == user_id:
                        self._users.popitem(last=False)
                    metrics.OUTBOX_SIZE.set(len(self._users))
                metrics.OUTBOX_REDELIVERED.inc()
                delay = self.base_delay_s
