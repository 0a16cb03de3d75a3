"""Manual triggers: warm one user, sweep everyone, and follow a task."""

from __future__ import annotations

from typing import Any

from memcache_platform import task_names
from memcache_platform.clients.task_queue import TaskQueue
from memcache_platform.tiers.sweep_progress import SweepProgress


class WarmingService:
    """Enqueues rebuilds and sweeps and reports on them."""

    def __init__(self, queue: TaskQueue, progress: SweepProgress) -> None:
        self.queue = queue
        self.progress = progress

    def warm_user(self, user_id: str) -> str:
        """Rebuild one user now, even if current (a person asked for it); the task id."""
        return self.queue.enqueue_rebuild(user_id, force=True)

    def warm_all(self) -> str:
        """Start a sweep over every user now; the task id, which is also the sweep id."""
        return self.queue.enqueue_sweep()

    def task(self, task_id: str) -> dict[str, Any]:
        """A task's state; for a sweep, its progress too (done / total / skipped / failed)."""
        body = self.queue.task_state(task_id)
        progress = self.progress.read(task_id)
        if progress or body.get("name") == task_names.SWEEP:
            body["progress"] = progress
        return body
