"""Builds the process's clients, tiers and services from the settings, once, lazily.

Mem0 is the heavy part (≈10 s, ≈500 MB): it is built on first use, after any fork, so
gunicorn and Celery children each build their own (see shared/MEM0-NOTES.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property, lru_cache

import redis

from config.settings import Settings, get_settings
from memcache_platform.celery_app import app as celery_app
from memcache_platform.clients.mem0 import EMBEDDING_DIMS, EMBEDDING_MODEL, Mem0ClientWrapper
from memcache_platform.clients.task_queue import TaskQueue
from memcache_platform.services.batch_write import BatchWriteService
from memcache_platform.services.cache_status import CacheStatusService
from memcache_platform.services.compat_events import CompatEvents
from memcache_platform.services.dirty_marks import DirtyMarker
from memcache_platform.services.erasure import ErasureService
from memcache_platform.services.extraction import ExtractionService
from memcache_platform.services.favorites import FavoritesService
from memcache_platform.services.handoff import Handoff
from memcache_platform.services.mem0_events import EventFollower, EventPolicy
from memcache_platform.services.memories import MemoryService
from memcache_platform.services.proactive_cache import ProactiveCacheService, RebuildTuning
from memcache_platform.services.registry import UserRegistry
from memcache_platform.services.search import SearchService
from memcache_platform.services.sweep import SweepService
from memcache_platform.services.sweep_stream import L4Reconciler, StreamingPlanner
from memcache_platform.services.warming import WarmingService
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.compat_event_store import CompatEventStore
from memcache_platform.tiers.hot_queries import HotQueries
from memcache_platform.tiers.known_users import KnownUsers
from memcache_platform.tiers.l1_embeddings import EmbeddingCache
from memcache_platform.tiers.l2_results import ResultCache
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.l3_users import L3Users
from memcache_platform.tiers.locks import Leases
from memcache_platform.tiers.mem0_events import Mem0Events
from memcache_platform.tiers.redis_client import cache_cluster, cache_redis
from memcache_platform.tiers.sweep_progress import SweepProgress
from memcache_platform.tiers.user_keys import UserKeys
from memcache_platform.tiers.watermark import Watermarks


class Platform:
    """The process-wide object graph: api → services → clients/tiers."""

    def __init__(
        self,
        settings: Settings,
        *,
        enqueue: Callable[[str], object] | None = None,
        task_queue: TaskQueue | None = None,
        mem0: Mem0ClientWrapper | None = None,
    ) -> None:
        """``enqueue`` replaces only the hand-off's enqueue (tests and the bench that want none)."""
        self.settings = settings
        self.task_queue = task_queue or TaskQueue(celery_app)
        self._enqueue = enqueue or self.task_queue.enqueue_rebuild
        self._mem0 = mem0
        self._mem0_lock = threading.Lock()

    @property
    def mem0(self) -> Mem0ClientWrapper:
        with self._mem0_lock:
            if self._mem0 is None:
                self._mem0 = self._build_mem0()  # assigned only once usable: mem0_loaded stays honest
            return self._mem0

    def _build_mem0(self) -> Mem0ClientWrapper:
        """The ≈10 s build (a method of its own, so a test can hold it)."""
        return Mem0ClientWrapper.from_settings(self.settings, embedding_cache=self.l1)

    @property
    def mem0_loaded(self) -> bool:
        """True once Mem0 is built and usable; never waits for a build in progress."""
        return self._mem0 is not None

    @property
    def mem0_if_loaded(self) -> Mem0ClientWrapper | None:
        """Mem0 when built, else None, without taking the build lock (readiness must not wait)."""
        return self._mem0

    def start_mem0_build(self) -> threading.Thread:
        """Build Mem0 in a background thread, so the process answers (503 starting) meanwhile."""

        def build() -> None:
            try:
                self.mem0  # noqa: B018 - builds it
            except Exception:  # a data request retries the build; readiness keeps saying "starting"
                logging.getLogger(__name__).exception("building Mem0 failed")

        thread = threading.Thread(target=build, name="mem0-build", daemon=True)
        thread.start()
        return thread

    @cached_property
    def redis(self) -> redis.Redis:
        """The cache tiers' Redis: one server, or a Redis Cluster (``MEMCACHE_REDIS_CLUSTER``)."""
        s = self.settings
        build = cache_cluster if s.redis_cluster else cache_redis
        return build(  # type: ignore[return-value] - RedisCluster answers the same commands
            s.redis_url,
            timeout_s=s.cache_timeout_s,
            breaker_open_s=s.redis_breaker_open_s,
            breaker_probe_s=s.redis_breaker_probe_s,
        )

    @cached_property
    def watermarks(self) -> Watermarks:
        return Watermarks(self.redis)

    @cached_property
    def l1(self) -> EmbeddingCache:
        return EmbeddingCache(self.redis, EMBEDDING_MODEL, ttl_s=self.settings.l1_ttl_s, dims=EMBEDDING_DIMS)

    @cached_property
    def l2(self) -> ResultCache:
        return ResultCache(self.redis, ttl_s=self.settings.l2_ttl_s)

    @cached_property
    def l3(self) -> L3Store:
        return L3Store.from_url(self.settings.sqlalchemy_url)

    @cached_property
    def hot_queries(self) -> HotQueries:
        return HotQueries(
            self.redis, half_life_s=self.settings.hot_query_half_life_s, ttl_s=self.settings.l2_ttl_s
        )

    @cached_property
    def coordinator(self) -> RebuildCoordinator:
        s = self.settings
        return RebuildCoordinator(self.redis, lock_ttl_s=s.rebuild_lock_ttl_s, pending_ttl_s=s.pending_ttl_s)

    @cached_property
    def registry(self) -> UserRegistry:
        return UserRegistry(KnownUsers(self.redis), self.l3, self.l4_users)

    def l4_users(self) -> list[str]:
        """User ids in L4; for the local backend without building Mem0 (a CLI need not load it)."""
        if self.mem0_loaded or self.settings.mem0_backend == "hosted":
            return self.mem0.list_users()
        from memcache_platform.clients.mem0 import list_local_user_ids

        return list_local_user_ids(self.settings.effective_mem0_database_url, self.settings.mem0_collection)

    def l4_user_stats(self) -> dict[str, tuple[int, datetime | None]]:
        """Per user (memory count, newest change) in L4, without building Mem0 when it is not loaded."""
        if self.mem0_loaded or self.settings.mem0_backend == "hosted":
            return self.mem0.user_stats()
        from memcache_platform.clients.mem0 import local_user_stats, translate_error

        try:
            return local_user_stats(self.settings.effective_mem0_database_url, self.settings.mem0_collection)
        except Exception as exc:  # noqa: BLE001 - psycopg errors: the same meaning as through the wrapper
            raise translate_error("user_stats", exc) from exc

    def l4_user_stats_pages(self) -> Iterator[list[tuple[str, int, datetime | None]]]:
        """``l4_user_stats`` in pages, through a server-side cursor (the local backend only)."""
        from memcache_platform.clients.mem0 import translate_error
        from memcache_platform.clients.mem0.sql import iter_local_user_stats

        s = self.settings
        try:
            yield from iter_local_user_stats(s.effective_mem0_database_url, s.mem0_collection)
        except Exception as exc:  # noqa: BLE001 - psycopg errors: the same meaning as through the wrapper
            raise translate_error("user_stats", exc) from exc

    @cached_property
    def sweep(self) -> SweepService:
        s = self.settings
        users = L3Users(self.l3)
        local = s.mem0_backend != "hosted"
        reconciler = L4Reconciler(
            users,
            interval_s=s.sweep_reconcile_interval_s,
            stats_pages=self.l4_user_stats_pages if local else None,
            list_users=None if local else self.l4_users,
        )
        planner = StreamingPlanner(
            users, KnownUsers(self.redis), self.watermarks, max_age_s=s.sweep_max_age_s, reconciler=reconciler
        )
        return SweepService(self.sweep_progress, planner, self.proactive_cache, self.l3)

    @cached_property
    def sweep_progress(self) -> SweepProgress:
        return SweepProgress(self.redis)

    @cached_property
    def erasure(self) -> ErasureService:
        return ErasureService(
            self.mem0,
            self.l3,
            UserKeys(self.redis),
            self.registry,
            self.coordinator,
            lock_wait_s=self.settings.rebuild_lock_ttl_s,
        )

    @cached_property
    def warming(self) -> WarmingService:
        return WarmingService(self.task_queue, self.sweep_progress)  # no Mem0 in this process

    @cached_property
    def handoff(self) -> Handoff:
        handoff = Handoff(
            self.watermarks,
            self.coordinator,
            self._enqueue,
            self.settings.handoff_timeout_s,
            registry=self.registry,
            outbox_size=self.settings.outbox_size,
        )
        if handoff.outbox is not None:  # what the outbox holds is also marked durably, in L3's database
            handoff.outbox.on_add = DirtyMarker(self.l3, timeout_s=self.settings.dirty_mark_timeout_s)
        return handoff

    @cached_property
    def extraction(self) -> ExtractionService:
        return ExtractionService(
            self.mem0,
            self.handoff,
            extractor=self.settings.extractor,
            strict_rebuild=self.proactive_cache.rebuild_now,
            watermarks=self.watermarks,
            events=self.mem0_events,
            strict_event_wait_s=self.settings.mem0_strict_event_wait_s,
        )

    @cached_property
    def batch_write(self) -> BatchWriteService:
        return BatchWriteService(self.extraction)

    @cached_property
    def mem0_events(self) -> EventFollower:
        s = self.settings
        return EventFollower(
            lambda: self.mem0,
            self.mem0_event_marks,
            self.handoff,
            self.task_queue.enqueue_follow_event,
            EventPolicy(s.mem0_event_poll_s, s.mem0_event_poll_max_s, s.mem0_event_deadline_s),
        )

    @cached_property
    def compat_events(self) -> CompatEvents:
        return CompatEvents(CompatEventStore(self.redis), workers=self.settings.mem0_compat_async_workers)

    @cached_property
    def mem0_event_marks(self) -> Mem0Events:
        return Mem0Events(self.redis, pending_ttl_s=self.settings.mem0_pending_ttl_s)

    @cached_property
    def memories(self) -> MemoryService:
        return MemoryService(self.mem0, self.handoff)

    @cached_property
    def search(self) -> SearchService:
        s = self.settings
        return SearchService(
            self.mem0,
            self.l2,
            self.hot_queries,
            Leases(self.redis),
            lease_ms=s.search_lease_ms,
            wait_ms=s.search_wait_ms,
            pending=self.mem0_event_marks if s.mem0_backend == "hosted" else None,
            on_watermark_lost=self.handoff.rebuild_lost,
        )

    @cached_property
    def proactive_cache(self) -> ProactiveCacheService:
        s = self.settings
        tuning = RebuildTuning(
            hot_top_n=s.hot_queries_top_n,
            settle_s=s.rebuild_settle_ms / 1000,
            max_delay_s=s.rebuild_max_delay_ms / 1000,
        )
        return ProactiveCacheService(
            self.mem0,
            self.l3,
            self.watermarks,
            l2=self.l2,
            hot=self.hot_queries,
            coordinator=self.coordinator,
            tuning=tuning,
            events=self.mem0_event_marks if self.settings.mem0_backend == "hosted" else None,
        )

    @cached_property
    def cache_status(self) -> CacheStatusService:
        return CacheStatusService(
            self.l1,
            self.l2,
            self.l3,
            self.hot_queries,
            self.coordinator,
            hot_top_n=self.settings.hot_queries_top_n,
            mem0_events=self.mem0_event_marks,
        )

    @cached_property
    def favorites(self) -> FavoritesService:
        heal = self.handoff.rebuild_lost
        return FavoritesService(self.mem0, self.l3, self.watermarks, on_watermark_lost=heal)


@lru_cache(maxsize=1)
def get_platform() -> Platform:
    """The process's platform, from the process's settings."""
    return Platform(get_settings())
