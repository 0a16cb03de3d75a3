"""S2 a million users: quiet-sweep planning over many synthetic users, and Redis memory per user.

Planning: ``users`` synthetic users (a build from their current watermark each, 1% one write
ahead) are bulk-loaded by COPY into a database of their own on the stack's PostgreSQL and by
pipelines into Redis database 9 of the stack's Redis; then the streaming planner (the one
``run_proactive_caching_job`` uses, reconciliation not due) plans them: users per second (best
of ``repeats``), peak Python memory of one planning pass (tracemalloc) and the RSS growth, and the
extrapolation to 1,000,000 users (planning is linear: one page query and one MGET per 1,000).

Redis memory per user: real users written, searched and rebuilt through the stack's in-process
platform, then MEMORY USAGE of every key under their hash tag, by kind (watermark, generation,
hot queries, L2 entries) and of the shared L1 embeddings their queries created.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections import defaultdict

import psutil
import redis

from bench import synthetic_users
from bench.data import DataGen
from bench.output import say
from config.settings import Settings
from memcache_platform.db.migrate import upgrade
from memcache_platform.services.sweep_stream import StreamingPlanner
from memcache_platform.tiers.known_users import KnownUsers
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.l3_users import L3Users
from memcache_platform.tiers.watermark import Watermarks

ID = "S2"
TITLE = "A million users: quiet-sweep planning and Redis memory per user"
SIZES = {
    "tiny": {"users": 2_000, "repeats": 1, "real_users": 1, "memories": 5, "queries": 3},
    "quick": {"users": 20_000, "repeats": 2, "real_users": 3, "memories": 20, "queries": 10},
    "full": {"users": 100_000, "repeats": 3, "real_users": 5, "memories": 20, "queries": 10},
}
REDIS_DB = 9
TARGET_USERS, TARGET_S = 1_000_000, 60.0
MB = 2**20


def _planning(stack, p: dict) -> dict:
    url = stack.l3_pg.server.create_database("memcache_s2", drop_first=True)
    sqlalchemy_url = Settings(database_url=url).sqlalchemy_url
    upgrade(sqlalchemy_url)
    client = redis.Redis.from_url(stack.settings.redis_url, db=REDIS_DB)
    client.flushdb()
    users = synthetic_users.user_ids(p["users"], prefix=f"{stack.token}-s2")
    dirty = set(users[::100])  # 1%: what a quiet sweep finds between two beats
    load = synthetic_users.load(url, client, users, dirty=dirty)
    say(ID, f"{len(users):,} users loaded: L3 by COPY {load['l3_load_s']} s, Redis {load['redis_load_s']} s")
    del users
    l3 = L3Store.from_url(sqlalchemy_url)
    planner = StreamingPlanner(L3Users(l3), KnownUsers(client), Watermarks(client), max_age_s=3600)
    try:
        timings, plan = [], None
        rss_before = psutil.Process().memory_info().rss
        for _ in range(p["repeats"]):
            started = time.perf_counter()
            plan = planner.plan()
            timings.append(time.perf_counter() - started)
        rss_growth = psutil.Process().memory_info().rss - rss_before
        tracemalloc.start()
        pages = 0
        for _ in planner.pages():
            pages += 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        l3.engine.dispose()
        client.flushdb()
    best = min(timings)
    rate = p["users"] / best
    return {
        "users": p["users"],
        "dirty_loaded": len(dirty),
        "dirty_found": len(plan.dirty),
        "skipped": plan.skipped,
        "pages": pages,
        "load": load,
        "seconds_best": round(best, 3),
        "seconds_median": round(statistics.median(timings), 3),
        "users_per_s": round(rate, 1),
        "peak_python_mb": round(peak / MB, 2),
        "rss_growth_mb": round(rss_growth / MB, 1),
        "extrapolated_1m_s": round(TARGET_USERS / rate, 1),
        "target_1m_s": TARGET_S,
    }


def _kind(suffix: str) -> str:
    if suffix in ("wm", "gen", "hot"):
        return {"wm": "watermark", "gen": "generation", "hot": "hot queries"}[suffix]
    return "L2 entries" if ":q:" in suffix else f"other ({suffix.split(':')[0]})"


def _redis_per_user(stack, p: dict) -> dict:
    platform, data = stack.platform, DataGen(seed=29, token=stack.token)
    client = platform.redis
    emb_before = set(client.scan_iter(match="mc:emb:*", count=1000))
    per_kind: dict[str, list[int]] = defaultdict(list)
    ttl_less: set[str] = set()
    for n in range(p["real_users"]):
        user = data.user(f"{stack.token}-s2-real-{n}", p["memories"], p["queries"])
        for text in user.memories:
            platform.extraction.extract_facts(user.user_id, [{"role": "user", "content": text}])
        for query in user.queries:  # misses: L4, the hot queries recorded, L2 filled
            platform.search.search(user.user_id, query, limit=10)
        platform.proactive_cache.update_user_favorite_cache(user.user_id, force=True)  # warms L2
        sizes: dict[str, int] = defaultdict(int)
        prefix = f"mc:{{{user.user_id}}}:"
        for key in client.scan_iter(match=prefix + "*", count=1000):
            kind = _kind(key.decode().removeprefix(prefix))
            sizes[kind] += int(client.memory_usage(key, samples=0) or 0)
            if client.ttl(key) == -1:
                ttl_less.add(kind)
        for kind, size in sizes.items():
            per_kind[kind].append(size)
    emb_new = set(client.scan_iter(match="mc:emb:*", count=1000)) - emb_before
    emb_bytes = [int(client.memory_usage(k, samples=0) or 0) for k in emb_new]
    kinds = {kind: round(statistics.mean(sizes)) for kind, sizes in sorted(per_kind.items())}
    total = sum(kinds.values())
    return {
        "users_measured": p["real_users"],
        "memories_per_user": p["memories"],
        "queries_per_user": p["queries"],
        "bytes_per_user": kinds,
        "bytes_per_user_total": total,
        "keys_without_ttl": sorted(ttl_less),
        "l1_bytes_per_embedding": round(statistics.mean(emb_bytes)) if emb_bytes else None,
        "l1_embeddings_created": len(emb_new),
        "extrapolated_1m_gb": round(total * TARGET_USERS / 2**30, 2),
    }


def run(stack, size: str) -> dict:
    p = SIZES[size]
    planning = _planning(stack, p)
    say(
        ID,
        f"quiet plan of {planning['users']:,} users: {planning['seconds_best']:.2f} s = "
        f"{planning['users_per_s']:,.0f} users/s, {planning['dirty_found']} dirty found; peak "
        f"{planning['peak_python_mb']} MB (tracemalloc); 1,000,000 users: ~{planning['extrapolated_1m_s']} s",
    )
    memory = _redis_per_user(stack, p)
    say(
        ID,
        f"Redis per user ({memory['memories_per_user']} memories, {memory['queries_per_user']} queries): "
        f"{memory['bytes_per_user']} = {memory['bytes_per_user_total']:,} B; "
        f"1,000,000 such users ~{memory['extrapolated_1m_gb']} GiB; no TTL: {memory['keys_without_ttl']}",
    )
    return {"planning": planning, "redis_memory": memory}
