"""Settings and Celery configuration for memcache_platform."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
