"""The Celery side as the API and the CLI see it: enqueue rebuilds and sweeps, read task states.

Tasks are sent by name (``memcache_platform.task_names``), never imported: ``tasks`` depends on the
platform, not the other way round. ``send_task`` routes by name through ``task_routes`` and applies
the same publish retry policy as ``delay`` (both read ``config.celeryconfig``).
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from memcache_platform import task_names
from memcache_platform.errors import PlatformError


class BrokerUnavailable(PlatformError):
    """The Celery broker or result backend could not be reached."""

    code = "broker_unavailable"
    status = 503


class TaskQueue:
    """Sends the platform's tasks by name through one Celery app and reads their states."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def _send(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> str:
        try:
            return self.celery.send_task(name, args=args, kwargs=kwargs).id
        except Exception as exc:  # noqa: BLE001 - kombu raises several types for an unreachable broker
            raise BrokerUnavailable(
                f"task not enqueued: the broker is unreachable ({type(exc).__name__})"
            ) from exc

    def enqueue_rebuild(self, user_id: str, *, force: bool = False) -> str:
        """``update_user_favorite_cache`` for one user; returns the task id."""
        return self._send(task_names.REBUILD_USER, [user_id], {"force": True} if force else None)

    def enqueue_follow_event(self, user_id: str, event_id: str, accepted_at: float) -> str:
        """``follow_mem0_event``: poll a queued hosted add until it ends; returns the task id."""
        return self._send(task_names.FOLLOW_MEM0_EVENT, [user_id, event_id, accepted_at])

    def enqueue_sweep(self) -> str:
        """``run_proactive_caching_job`` now; returns the task id (which is also the sweep id)."""
        return self._send(task_names.SWEEP)

    def ping(self, timeout_s: float) -> None:
        """Raise unless the broker accepts a connection within ``timeout_s`` (readiness)."""
        with self.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout_s)

    def task_state(self, task_id: str) -> dict[str, Any]:
        """State, name and result (or progress meta) of a task, read from the result backend as data.

        Reads the stored meta directly rather than through ``AsyncResult``, which for a chord's parent
        subscribes to its children and leaves them tracked by the backend.
        """
        try:
            meta = self.celery.backend.get_task_meta(task_id)
        except Exception as exc:  # noqa: BLE001 - the result backend is Redis: any failure means it is away
            raise BrokerUnavailable(
                f"task state unreadable: result backend unreachable ({type(exc).__name__})"
            ) from exc
        state, info = meta.get("status", "PENDING"), meta.get("result")
        body: dict[str, Any] = {"task_id": task_id, "state": state, "name": meta.get("name")}
        if isinstance(info, BaseException):
            body["error"] = {"type": type(info).__name__, "message": str(info)}
        elif isinstance(info, dict) and state == "FAILURE":
            body["error"] = {"type": info.get("exc_type"), "message": str(info.get("exc_message"))}
        elif info is not None:
            body["result" if state == "SUCCESS" else "meta"] = info
        return body
