"""Manual triggers: warm one user, sweep everyone, and follow a task."""

from __future__ import annotations

from typing import Any

from memcache_platform.clients import task_queue
from memcache_platform.tiers.sweep_progress import SweepProgress

SWEEP_TASK = "tasks.run_proactive_caching_job"


class WarmingService:
    """Enqueues rebuilds and sweeps and reports on them."""

    def __init__(self, progress: SweepProgress) -> None:
        self.progress = progress

    def warm_user(self, user_id: str) -> str:
        """Rebuild one user now, even if current (a person asked for it); the task id."""
        return task_queue.enqueue_rebuild(user_id, force=True)

    def warm_all(self) -> str:
        """Start a sweep over every user now; the task id, which is also the sweep id."""
        return task_queue.enqueue_sweep()

    def task(self, task_id: str) -> dict[str, Any]:
        """A task's state; for a sweep, its progress too (done / total / skipped / failed)."""
        body = task_queue.task_state(task_id)
        progress = self.progress.read(task_id)
        if progress or body.get("name") == SWEEP_TASK:
            body["progress"] = progress
        return body
