"""The Mem0-compatible API's asynchronous adds, as the hosted platform runs them (``async_mode``).

An add in async mode answers at once with an ``event_id`` (status PENDING); a thread of the web
process writes it (RUNNING), and ``GET /v1/event/{id}/`` then reads SUCCEEDED with the ADD/UPDATE/
DELETE results, or FAILED with the error. The events live in Redis (``mc:event:{id}``, a day), so
any web process answers for any event; a process that dies mid-add leaves its event RUNNING.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from memcache_platform.errors import MemoryNotFound, PlatformError
from memcache_platform.tiers.compat_event_store import CompatEventStore

log = logging.getLogger(__name__)

QUEUED_MESSAGE = "Memory processing has been queued for background execution"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class CompatEvents:
    """Runs async-mode adds on a small thread pool and keeps each one's event in Redis."""

    def __init__(self, store: CompatEventStore, *, workers: int) -> None:
        self.store = store
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="mem0-event"
        )

    def submit(self, user_id: str, write: Callable[[], list[dict[str, Any]]]) -> str:
        """Queue ``write`` (which returns the event's results); the new event's id."""
        event_id = str(uuid.uuid4())
        created = _now()
        self._save(
            {
                "id": event_id,
                "event_type": "ADD",
                "status": "PENDING",
                "user_id": user_id,
                "results": [],
                "created_at": created,
                "updated_at": created,
            }
        )
        self._pool.submit(self._run, event_id, write)
        return event_id

    def get(self, event_id: str) -> dict[str, Any]:
        """The event as stored; ``MemoryNotFound`` when unknown (or expired)."""
        event = self.store.get(event_id)
        if event is None:
            raise MemoryNotFound(f"event {event_id} not found")
        return event

    def set_status(self, event_id: str, status: str, **fields: Any) -> None:
        """Move the event to ``status`` (tests use it to make the stand-in answer FAILED)."""
        event = self.get(event_id) | fields | {"status": status, "updated_at": _now()}
        self._save(event)

    def _run(self, event_id: str, write: Callable[[], list[dict[str, Any]]]) -> None:
        started = time.monotonic()
        try:
            self.set_status(event_id, "RUNNING")
            results = write()
        except PlatformError as exc:
            self._finish(event_id, "FAILED", started, detail=f"{exc.code}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - a background add must end its event, whatever failed
            log.exception("async add %s failed", event_id)
            self._finish(event_id, "FAILED", started, detail=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(event_id, "SUCCEEDED", started, results=results)

    def _finish(self, event_id: str, status: str, started: float, **fields: Any) -> None:
        try:
            self.set_status(event_id, status, latency=round((time.monotonic() - started) * 1000, 1), **fields)
        except PlatformError:  # Redis away: the event stays RUNNING and its caller's deadline ends it
            log.warning("event %s could not be marked %s", event_id, status)

    def _save(self, event: dict[str, Any]) -> None:
        self.store.save(event)


def event_results(memories: list[Any], user_id: str) -> list[dict[str, Any]]:
    """What an event reports of a write's ``StoredMemory`` list: what changed (a restated fact is not)."""
    return [
        {"id": m.id, "event": m.event, "user_id": user_id, "data": {"memory": m.memory}}
        for m in memories
        if m.event != "NONE"
    ]
