"""The Celery side as the API and the CLI see it: enqueue rebuilds and sweeps, read task states.

``tasks`` is imported lazily: ``tasks`` depends on the platform, not the other way round.
"""

from __future__ import annotations

from typing import Any

from memcache_platform.errors import PlatformError


class BrokerUnavailable(PlatformError):
    """The Celery broker or result backend could not be reached."""

    code = "broker_unavailable"
    status = 503


def _send(fn: Any, *args: Any, **kwargs: Any) -> str:
    try:
        return fn(*args, **kwargs).id
    except Exception as exc:  # noqa: BLE001 - kombu raises several types for an unreachable broker
        raise BrokerUnavailable(
            f"task not enqueued: the broker is unreachable ({type(exc).__name__})"
        ) from exc


def enqueue_rebuild(user_id: str, *, force: bool = False) -> str:
    """``update_user_favorite_cache`` for one user; returns the task id."""
    from tasks.cache import update_user_favorite_cache

    if not force:
        return _send(update_user_favorite_cache.delay, user_id)
    return _send(update_user_favorite_cache.apply_async, args=[user_id], kwargs={"force": True})


def enqueue_sweep() -> str:
    """``run_proactive_caching_job`` now; returns the task id (which is also the sweep id)."""
    from tasks.sweep import run_proactive_caching_job

    return _send(run_proactive_caching_job.delay)


def task_state(task_id: str) -> dict[str, Any]:
    """State, name and result (or progress meta) of a task, read from the result backend as data.

    Reads the stored meta directly rather than through ``AsyncResult``, which for a chord's parent
    subscribes to its children and leaves them tracked by the backend.
    """
    from tasks.app import app

    try:
        meta = app.backend.get_task_meta(task_id)
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
