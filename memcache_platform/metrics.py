"""Prometheus metrics of the platform.

Under gunicorn or Celery prefork, set ``PROMETHEUS_MULTIPROC_DIR`` (``make run`` does) so that
``/metrics`` aggregates every process; see ``memcache_platform.api.metrics``.
"""

from prometheus_client import Counter, Gauge, Histogram

HANDOFFS = Counter("memcache_handoffs_total", "Hand-offs of a rebuild after a write, by outcome", ["outcome"])
LOST_WATERMARK_REBUILDS = Counter(
    "memcache_lost_watermark_rebuilds_total",
    "Rebuilds asked by reads that found a user's watermark lost (Redis restarted empty, flushed)",
)
WATERMARK_BUMP_FAILURES = Counter(
    "memcache_watermark_bump_failures_total", "Writes whose watermark bump failed (Redis down)"
)
TIER_READS = Counter(
    "memcache_tier_reads_total", "Reads answered, by endpoint and tier", ["endpoint", "tier"]
)
CACHE_LOOKUPS = Counter(
    "memcache_cache_lookups_total", "Cache lookups by tier and result", ["tier", "result"]
)
L4_CALLS = Counter("memcache_l4_calls_total", "Calls to Mem0 (L4), by operation", ["operation"])
MEM0_EVENTS = Counter(
    "memcache_mem0_events_total",
    "Hosted Mem0 add events, by outcome (accepted, succeeded, failed, abandoned)",
    ["outcome"],
)
FEEDBACK = Counter(
    "memcache_memory_feedback_total",
    "Feedback on memories (Mem0's POST /v1/feedback/), by value (none: a reason without a rating)",
    ["feedback"],
)
TASKS = Counter(
    "memcache_tasks_total",
    "Celery task runs by task and outcome (started, succeeded, failed, retried)",
    ["task", "outcome"],
)
REBUILDS = Counter("memcache_rebuilds_total", "update_user_favorite_cache runs, by outcome", ["outcome"])
REBUILD_SECONDS = Histogram("memcache_rebuild_seconds", "Duration of one rebuild of a user's tiers")
REBUILD_LAG_SECONDS = Histogram(
    "memcache_rebuild_lag_seconds",
    "Time from a user's latest write to the end of the rebuild that includes it",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
OUTBOX_SIZE = Gauge(
    "memcache_outbox_size", "Hand-offs waiting in this process's outbox", multiprocess_mode="livesum"
)
OUTBOX_DROPPED = Counter("memcache_outbox_dropped_total", "Hand-offs dropped because the outbox was full")
OUTBOX_REDELIVERED = Counter("memcache_outbox_redelivered_total", "Hand-offs redelivered from the outbox")
DIRTY_MARKS = Counter(
    "memcache_dirty_marks_total", "Durable dirty marks for outbox hand-offs, by result", ["result"]
)
REDIS_BREAKER_OPEN = Gauge(
    "memcache_redis_breaker_open",
    "1 while this process skips a Redis server after a timeout or refusal (circuit breaker open)",
    ["server"],
    multiprocess_mode="livemax",
)
REDIS_BREAKER_TRIPS = Counter(
    "memcache_redis_breaker_trips_total", "Times a Redis circuit breaker opened", ["server"]
)
