"""The beat job: ``run_proactive_caching_job`` plans a sweep and fans it out in chunks."""

from celery import chord

from config.settings import get_settings
from memcache_platform import task_names
from tasks.app import app
from tasks.base import PlatformTask


# No retry: a retried sweep would find its own claim and stand down; beat starts the next one anyway.
@app.task(bind=True, base=PlatformTask, name=task_names.SWEEP, autoretry_for=())
def run_proactive_caching_job(self: PlatformTask) -> dict[str, object]:
    """Plan (dirty first, then aged builds), record progress, fan out chunks; returns the plan summary."""
    sweep = self.platform.sweep
    if running := sweep.claim(self.request.id, get_settings().sweep_lock_ttl_s):
        return sweep.superseded(self.request.id, running)
    self.update_state(state="PROGRESS", meta={"stage": "planning"})
    plan = sweep.planner.plan()
    summary = sweep.start(self.request.id, plan)
    chunks = plan.chunks(get_settings().sweep_chunk_size)
    if not chunks:  # nothing due: the sweep is over already
        return sweep.finish(self.request.id, []) | {"chunks": 0}
    chord(rebuild_users_chunk.s(self.request.id, chunk) for chunk in chunks)(
        finish_proactive_caching_job.s(self.request.id)
    )
    return summary | {"chunks": len(chunks)}


@app.task(
    bind=True,
    base=PlatformTask,
    name=task_names.SWEEP_CHUNK,
    rate_limit=get_settings().sweep_rate_limit or None,
)
def rebuild_users_chunk(self: PlatformTask, sweep_id: str, users: list[str]) -> dict[str, object]:
    """Rebuild one chunk of a sweep's users; the result lists who was rebuilt and the sweep's progress."""
    return vars(self.platform.sweep.run_chunk(sweep_id, list(users), owner=self.request.id))


@app.task(bind=True, base=PlatformTask, name=task_names.SWEEP_FINISH)
def finish_proactive_caching_job(
    self: PlatformTask, chunks: list[dict[str, object]], sweep_id: str
) -> dict[str, object]:
    """Close a sweep: refresh the global favourites view if anything changed; the final summary."""
    return self.platform.sweep.finish(sweep_id, chunks)
