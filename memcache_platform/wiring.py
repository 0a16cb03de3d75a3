"""Builds the process's clients, tiers and services from the settings, once, lazily.

Mem0 is the heavy part (≈10 s, ≈500 MB): it is built on first use, after any fork, so
gunicorn and Celery children each build their own (see shared/MEM0-NOTES.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property, lru_cache

from config.settings import Settings, get_settings
from memcache_platform.clients.mem0_client import Mem0ClientWrapper
from memcache_platform.services.extraction import ExtractionService
from memcache_platform.services.favorites import FavoritesService
from memcache_platform.services.handoff import Handoff
from memcache_platform.services.memories import MemoryService
from memcache_platform.services.proactive_cache import ProactiveCacheService
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.redis_client import cache_redis
from memcache_platform.tiers.watermark import Watermarks


def enqueue_rebuild(user_id: str) -> object:
    """The Celery hand-off: ``update_user_favorite_cache.delay(user_id)``."""
    from tasks.cache import update_user_favorite_cache

    return update_user_favorite_cache.delay(user_id)


class Platform:
    """The process-wide object graph: api → services → clients/tiers."""

    def __init__(
        self,
        settings: Settings,
        *,
        enqueue: Callable[[str], object] = enqueue_rebuild,
        mem0: Mem0ClientWrapper | None = None,
    ) -> None:
        self.settings = settings
        self._enqueue = enqueue
        self._mem0 = mem0
        self._mem0_lock = threading.Lock()

    @property
    def mem0(self) -> Mem0ClientWrapper:
        with self._mem0_lock:
            if self._mem0 is None:
                self._mem0 = Mem0ClientWrapper.from_settings(self.settings)
            return self._mem0

    @property
    def mem0_loaded(self) -> bool:
        return self._mem0 is not None

    @cached_property
    def redis(self):  # type: ignore[no-untyped-def]
        return cache_redis(self.settings.redis_url, timeout_s=self.settings.cache_timeout_s)

    @cached_property
    def watermarks(self) -> Watermarks:
        return Watermarks(self.redis)

    @cached_property
    def l3(self) -> L3Store:
        return L3Store.from_url(self.settings.sqlalchemy_url)

    @cached_property
    def handoff(self) -> Handoff:
        return Handoff(self.watermarks, self._enqueue, self.settings.handoff_timeout_s)

    @cached_property
    def extraction(self) -> ExtractionService:
        return ExtractionService(self.mem0, self.handoff, extractor=self.settings.extractor)

    @cached_property
    def memories(self) -> MemoryService:
        return MemoryService(self.mem0, self.handoff)

    @cached_property
    def proactive_cache(self) -> ProactiveCacheService:
        return ProactiveCacheService(self.mem0, self.l3, self.watermarks)

    @cached_property
    def favorites(self) -> FavoritesService:
        return FavoritesService(self.mem0, self.l3, self.watermarks)


@lru_cache(maxsize=1)
def get_platform() -> Platform:
    """The platform of this process, from the process's settings."""
    return Platform(get_settings())
