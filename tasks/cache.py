"""Tasks that rebuild cache tiers."""

from memcache_platform import task_names
from memcache_platform.ids import validate_user_id
from tasks.app import app
from tasks.base import PlatformTask

COALESCED_RETRIES = 3


# Bound to our app, not @shared_task: Celery's current app is thread-local, and from another thread
# (gunicorn's gthread workers, the hand-off pool) a shared task publishes through the *default* app.
@app.task(bind=True, base=PlatformTask, name=task_names.REBUILD_USER)
def update_user_favorite_cache(self: PlatformTask, user_id: str, force: bool = False) -> dict[str, object]:
    """Rebuild one user's L3 rows and L2 generation from L4; the result says what, from what, how long.

    "coalesced" (another rebuild holds the user) is retried once that lock could have lapsed: the
    holder normally runs again for us, but a holder killed mid-rebuild never will. The lock is held
    under this task's id, so this task redelivered after its own worker died takes it over at once.
    """
    platform = self.platform
    result = platform.proactive_cache.update_user_favorite_cache(
        validate_user_id(user_id), force=bool(force), owner=self.request.id
    )
    if result.outcome == "coalesced" and self.request.retries < COALESCED_RETRIES:
        raise self.retry(countdown=platform.settings.rebuild_lock_ttl_s, max_retries=COALESCED_RETRIES + 8)
    return result.to_dict()
