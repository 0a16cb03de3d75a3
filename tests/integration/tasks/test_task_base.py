"""``PlatformTask``: every task's platform, its counters, and its retries of transient errors.

The counting and retry tests run tasks of their own (on a private Celery app, through Celery's real
tracer with ``apply()``): their names are this module's alone, so the session worker's runs of the
platform's tasks, in this same process, cannot move the counters read here. Their errors are
raised by the task bodies: the test is about what the base class does with an error, not about a
tier going down (tests/integration/tasks/test_cache_tasks.py takes L3 down for real).
"""

from __future__ import annotations

import uuid

import pytest
from celery import Celery

from memcache_platform.errors import CacheUnavailable
from memcache_platform.wiring import get_platform
from tasks import (
    finish_proactive_caching_job,
    rebuild_users_chunk,
    run_proactive_caching_job,
    update_user_favorite_cache,
)
from tasks.base import TRANSIENT, PlatformTask
from tests.support.metrics import sample

pytestmark = pytest.mark.integration
_app = Celery("task-base-under-test", set_as_current=False)


def _counts(name: str) -> dict[str, float]:
    outcomes = ("started", "succeeded", "failed", "retried")
    return {o: sample("memcache_tasks_total", task=name, outcome=o) for o in outcomes}


def _task(fails: list[BaseException], **options: object) -> PlatformTask:
    """A task that raises the errors of ``fails`` one call each, then returns "done"."""
    name = f"test.task_base.{uuid.uuid4().hex[:8]}"

    @_app.task(bind=True, base=PlatformTask, name=name, **options)
    def flaky(self: PlatformTask) -> str:
        if fails:
            raise fails.pop(0)
        return "done"

    return flaky


def test_a_transient_error_is_retried_and_every_try_is_counted():
    task = _task([CacheUnavailable("L3 away"), CacheUnavailable("L3 still away")])
    result = task.apply()
    assert (result.state, result.result) == ("SUCCESS", "done")
    assert _counts(task.name) == {"started": 3, "succeeded": 1, "failed": 0, "retried": 2}


def test_a_transient_error_fails_once_max_retries_are_spent():
    task = _task([CacheUnavailable(str(i)) for i in range(5)], max_retries=2)
    result = task.apply()
    assert result.state == "FAILURE" and isinstance(result.result, CacheUnavailable)
    assert _counts(task.name) == {"started": 3, "succeeded": 0, "failed": 1, "retried": 2}


def test_any_other_error_fails_at_once():
    task = _task([ValueError("a bug, not an outage")])
    result = task.apply()
    assert result.state == "FAILURE" and isinstance(result.result, ValueError)
    assert _counts(task.name) == {"started": 1, "succeeded": 0, "failed": 1, "retried": 0}


def test_the_platform_tasks_share_the_base_and_only_the_sweep_job_opts_out_of_retries():
    rebuilds = (update_user_favorite_cache, rebuild_users_chunk, finish_proactive_caching_job)
    for task in (*rebuilds, run_proactive_caching_job):
        assert isinstance(task, PlatformTask), task.name
        assert task.acks_late is True
        assert task.platform is get_platform()
    assert all(task.autoretry_for == TRANSIENT for task in rebuilds)
    assert update_user_favorite_cache.max_retries == 8 and update_user_favorite_cache.retry_backoff
    # A retried sweep would meet its own claim and stand down as "superseded" by itself.
    assert run_proactive_caching_job.autoretry_for == ()
