"""Durable dirty marks: the outbox's record in PostgreSQL, so a SIGKILLed API process loses nothing.

A hand-off that goes to the in-memory outbox (Redis or the broker unreachable) also upserts
``user_dirty_marks`` in L3's database, synchronously and bounded in time. The sweep rebuilds a
marked user whose last build is older than the mark, whichever Mem0 backend holds L4; the
rebuild's L3 transaction deletes the marks it answered.
"""

from __future__ import annotations

import concurrent.futures
import logging

from sqlalchemy.exc import SQLAlchemyError

from memcache_platform import metrics
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.l3_store import L3Store

log = logging.getLogger(__name__)

# Two threads are plenty: a mark is one upsert, and only writes during a Redis outage make one.
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="dirty-mark")


class DirtyMarker:
    """Writes a user's dirty mark; never raises (the L4 write has already succeeded)."""

    def __init__(self, l3: L3Store, *, timeout_s: float) -> None:
        self.l3 = l3
        self.timeout_s = timeout_s

    def __call__(self, user_id: str) -> bool:
        """Mark ``user_id`` dirty; False (logged and counted) when the mark could not be written."""
        future = _executor.submit(self.l3.mark_dirty, user_id, timeout_ms=max(1, int(self.timeout_s * 1000)))
        try:
            # The statement timeout bounds a slow server; this bounds a hung connect or pool wait too.
            future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return self._failed(user_id, f"no answer within {self.timeout_s:g} s")
        except (CacheUnavailable, SQLAlchemyError) as exc:
            return self._failed(user_id, str(exc))
        metrics.DIRTY_MARKS.labels("written").inc()
        return True

    def _failed(self, user_id: str, reason: str) -> bool:
        metrics.DIRTY_MARKS.labels("failed").inc()
        log.warning(
            "dirty mark of %s not written (%s): only this process's outbox remembers the write",
            user_id,
            reason,
        )
        return False
