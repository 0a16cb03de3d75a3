"""Tasks that rebuild cache tiers."""

from memcache_platform.errors import CacheUnavailable, MemoryStoreUnavailable
from memcache_platform.ids import validate_user_id
from memcache_platform.wiring import get_platform
from tasks.app import app

TRANSIENT = (MemoryStoreUnavailable, CacheUnavailable)


# Bound to our app, not @shared_task: Celery's current app is thread-local, and from another thread
# (gunicorn's gthread workers, the hand-off pool) a shared task publishes through the *default* app.
@app.task(
    name="tasks.update_user_favorite_cache",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def update_user_favorite_cache(user_id: str, force: bool = False) -> dict[str, object]:
    """Rebuild one user's L3 rows and L2 generation from L4; the result says what, from what, how long."""
    service = get_platform().proactive_cache
    return service.update_user_favorite_cache(validate_user_id(user_id), force=bool(force)).to_dict()
