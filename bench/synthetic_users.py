"""Many synthetic users at once: L3's ``known_users`` and build states by COPY, watermarks by pipeline.

A quiet sweep's inputs without Mem0: every user has a build from its current watermark, so a
planner skips them all except the ``dirty`` ones, whose watermark is one write ahead.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
import redis

from memcache_platform.tiers.watermark import Watermarks

BATCH = 10_000


def user_ids(n: int, prefix: str = "syn") -> list[str]:
    """``n`` user ids of the kind the API accepts."""
    return [f"{prefix}-{i:07d}" for i in range(n)]


def load(db_url: str, client: redis.Redis, users: list[str], *, dirty: set[str] = frozenset()) -> dict:
    """Bulk-load ``users`` (current builds) into L3 and their watermarks into Redis; timings in seconds."""
    built_at = datetime.now(UTC)
    base = time.time_ns() // 1000
    started = time.perf_counter()
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY known_users (user_id) FROM STDIN") as copy:
            for user in users:
                copy.write_row((user,))
        columns = "user_id, built_at, built_from_watermark, source_memory_count, source_fingerprint, build_ms"
        with cur.copy(f"COPY user_cache_state ({columns}) FROM STDIN") as copy:
            for i, user in enumerate(users):
                copy.write_row((user, built_at, base + i, 3, "synthetic", 1.0))
        cur.execute("ANALYZE known_users")
        cur.execute("ANALYZE user_cache_state")
    l3_s = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(users), BATCH):
        pipe = client.pipeline(transaction=False)
        for i, user in enumerate(users[start : start + BATCH], start):
            pipe.set(Watermarks.key(user), base + i + (1 if user in dirty else 0))
        pipe.execute()
    return {"l3_load_s": round(l3_s, 2), "redis_load_s": round(time.perf_counter() - started, 2)}
