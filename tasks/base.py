"""The base class of every task: its platform, its counters and the retry of transient errors.

As Warehouse's ``WarehouseTask``: the cross-cutting parts live here once, so each task is a few lines
that call a service.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.exceptions import Retry

from memcache_platform import metrics
from memcache_platform.errors import CacheUnavailable, MemoryStoreUnavailable
from memcache_platform.wiring import Platform, get_platform

TRANSIENT = (MemoryStoreUnavailable, CacheUnavailable)
"""A tier or L4 that is away for now: worth a retry with backoff, never a failure at once."""


class PlatformTask(Task):
    """Counts every run (``memcache_tasks_total``) and retries ``TRANSIENT`` errors with backoff."""

    # Declared, not hand-written (Celery wraps ``run``); a task may narrow them in its decorator.
    autoretry_for = TRANSIENT
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 8
    # Rebuilds are idempotent: a task whose worker died is redelivered rather than lost.
    acks_late = True

    @property
    def platform(self) -> Platform:
        """The worker process's platform (built once per process, after the fork)."""
        return get_platform()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task between its started and succeeded / failed / retried counters."""
        metrics.TASKS.labels(self.name, "started").inc()
        try:
            result = super().__call__(*args, **kwargs)
        except Retry:
            metrics.TASKS.labels(self.name, "retried").inc()
            raise
        except BaseException:
            metrics.TASKS.labels(self.name, "failed").inc()
            raise
        metrics.TASKS.labels(self.name, "succeeded").inc()
        return result
