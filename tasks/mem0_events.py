"""Following the hosted platform's queued adds (``services/mem0_events.py``)."""

from memcache_platform import task_names
from memcache_platform.ids import validate_user_id
from tasks.app import app
from tasks.base import PlatformTask


@app.task(bind=True, base=PlatformTask, name=task_names.FOLLOW_MEM0_EVENT, autoretry_for=(), max_retries=None)
def follow_mem0_event(
    self: PlatformTask, user_id: str, event_id: str, accepted_at: float
) -> dict[str, object]:
    """Poll one event; retry with a doubling countdown (no worker slot held while waiting) until it ends."""
    follower = self.platform.mem0_events
    outcome = follower.check(validate_user_id(user_id), event_id)
    if outcome.finished:
        return outcome.to_dict()
    delay = follower.policy.delay(self.request.retries, float(accepted_at))
    if delay is None:
        return follower.give_up(user_id, event_id, outcome.status).to_dict()
    raise self.retry(countdown=delay, max_retries=None)
