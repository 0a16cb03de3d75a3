"""Celery tasks of memcache_platform: ``celery -A tasks worker|beat|flower``.

Tasks are thin wrappers over services (``memcache_platform.services``).
"""

from tasks.app import app
from tasks.cache import update_user_favorite_cache

celery = app
__all__ = ["app", "celery", "update_user_favorite_cache"]
