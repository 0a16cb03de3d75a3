"""Prometheus metrics of the platform (one registry per process for now)."""

from prometheus_client import Counter, Histogram

HANDOFFS = Counter("memcache_handoffs_total", "Hand-offs of a rebuild after a write, by outcome", ["outcome"])
WATERMARK_BUMP_FAILURES = Counter(
    "memcache_watermark_bump_failures_total", "Writes whose watermark bump failed (Redis down)"
)
TIER_READS = Counter(
    "memcache_tier_reads_total", "Reads answered, by endpoint and tier", ["endpoint", "tier"]
)
REBUILD_SECONDS = Histogram("memcache_rebuild_seconds", "Duration of update_user_favorite_cache")
