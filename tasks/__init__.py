"""Celery tasks of memcache_platform: ``celery -A tasks worker|beat|flower``.

Tasks are thin wrappers over services (``memcache_platform.services``).
"""

from tasks.app import app
from tasks.cache import update_user_favorite_cache
from tasks.mem0_events import follow_mem0_event
from tasks.sweep import finish_proactive_caching_job, rebuild_users_chunk, run_proactive_caching_job

celery = app
__all__ = [
    "app",
    "celery",
    "finish_proactive_caching_job",
    "follow_mem0_event",
    "rebuild_users_chunk",
    "run_proactive_caching_job",
    "update_user_favorite_cache",
]
