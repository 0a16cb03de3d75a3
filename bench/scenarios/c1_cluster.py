"""C1 L2-hit search throughput: the stack's one Redis vs a 3-master Redis Cluster, side by side.

Both run on this machine in one run. The cluster is started for the scenario from the same
redis-server (memcache_platform/dev/cluster.py); a second Platform in the bench process points its
cache tiers at it (``redis_cluster=True``) and shares the stack's Mem0. Each (user, query) is
searched once to fill L2 on both; then threads repeat the searches through ``SearchService.search``
for a fixed time, one Redis and the cluster alternating per thread count. An L2 hit is three
round trips either way (the state script, the hot-query script, the entry GET), so the figures
compare the cache path itself: no HTTP, no Mem0.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from redis.cluster import key_slot

from bench.data import DataGen
from bench.output import say
from bench.seed import seed_users
from bench.stats import ratio, summary
from memcache_platform.dev.cluster import SLOTS, RedisClusterServers
from memcache_platform.tiers.watermark import Watermarks
from memcache_platform.wiring import Platform

ID = "C1"
TITLE = "L2-hit search throughput: one Redis vs a 3-master Redis Cluster"
SIZES = {
    "tiny": {"users": 3, "memories": 3, "queries": 2, "seconds": 0.5, "threads": [1, 4]},
    "quick": {"users": 24, "memories": 10, "queries": 4, "seconds": 5.0, "threads": [1, 4, 8]},
    "full": {"users": 60, "memories": 20, "queries": 5, "seconds": 15.0, "threads": [1, 4, 8]},
}


def _measure(p: Platform, searches: list[tuple[str, str]], threads: int, seconds: float) -> dict:
    """Searches per second and latency with ``threads`` threads for ``seconds``."""
    samples: list[list[float]] = [[] for _ in range(threads)]
    tiers: list[Counter[str]] = [Counter() for _ in range(threads)]
    stop = threading.Event()

    def loop(i: int) -> None:
        n = i
        while not stop.is_set():
            user, query = searches[n % len(searches)]
            n += threads
            started = time.perf_counter()
            answer = p.search.search(user, query, limit=10)
            samples[i].append((time.perf_counter() - started) * 1000)
            tiers[i][answer.tier + (" degraded" if answer.degraded else "")] += 1

    workers = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join(30)
    elapsed = time.perf_counter() - started
    latencies = [ms for one in samples for ms in one]
    return {
        "searches": len(latencies),
        "searches_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": summary(latencies),
        "tiers": dict(sum(tiers, Counter())),
    }


def _spread_prefix(base: str, n_users: int, masters: int = 3) -> str:
    """A user-id prefix whose ``n_users`` users have keys on every master (each holds a third of the
    slots, in order): a few users (the tiny size) could otherwise all hash to two of them."""
    share = SLOTS // masters
    for attempt in range(1000):
        prefix = f"{base}{attempt}"
        thirds = {
            min(key_slot(Watermarks.key(f"{prefix}-{i}").encode()) // share, masters - 1)
            for i in range(n_users)
        }
        if len(thirds) == masters:
            return prefix
    raise RuntimeError(f"no prefix spreads {n_users} users over {masters} masters")


def run(stack, size: str) -> dict:
    p = SIZES[size]
    data = DataGen(seed=41, token=stack.token)
    prefix = _spread_prefix(f"{stack.token}-c1", p["users"])
    users = [u.user_id for u in seed_users(stack, data, prefix, p["users"], p["memories"], 1)]
    queries = [data.fresh_query() for _ in range(p["queries"])]
    searches = [(u, q) for u in users for q in queries]
    servers = RedisClusterServers(stack.root / "cluster")
    started = time.monotonic()
    servers.start()
    say(ID, f"3-master cluster started in {time.monotonic() - started:.1f} s (ports {servers.ports})")
    try:
        settings = stack.settings.model_copy(
            update={
                "redis_cluster": True,
                "redis_url": servers.url,
                "broker_url": stack.settings.effective_broker_url,
            }
        )
        targets = {
            "redis": stack.platform,
            "cluster": Platform(settings, enqueue=lambda _user: None, mem0=stack.platform.mem0),
        }
        for target in targets.values():  # fill L2: one miss per (user, query)
            for user, query in searches:
                target.search.search(user, query, limit=10)
        cluster = targets["cluster"].redis
        per_node = Counter(
            cluster.get_node_from_key(targets["cluster"].watermarks.key(u)).name for u in users
        )
        levels: dict[str, dict] = {}
        for threads in p["threads"]:
            order = ("redis", "cluster") if threads % 2 else ("cluster", "redis")  # alternate who goes first
            level = {name: _measure(targets[name], searches, threads, p["seconds"]) for name in order}
            level["ratio_cluster_redis"] = ratio(
                level["cluster"]["searches_per_s"], level["redis"]["searches_per_s"]
            )
            levels[str(threads)] = level
            one, many = level["redis"], level["cluster"]
            say(
                ID,
                f"{threads} threads: one Redis {one['searches_per_s']}/s "
                f"(p50 {one['latency_ms']['p50']} ms), "
                f"cluster {many['searches_per_s']}/s (p50 {many['latency_ms']['p50']} ms), "
                f"ratio {level['ratio_cluster_redis']}",
            )
    finally:
        servers.stop()
    return {
        "users": len(users),
        "queries_per_user": len(queries),
        "seconds_per_level": p["seconds"],
        "users_per_node": dict(per_node),
        "levels": levels,
    }


def headline(r: dict) -> list[tuple[str, str]]:
    """One row per thread count: searches per second on each, and the ratio."""
    return [
        (
            f"L2-hit searches/s, {threads} threads",
            f"one Redis {level['redis']['searches_per_s']:,}, 3-master cluster "
            f"{level['cluster']['searches_per_s']:,} ({level['ratio_cluster_redis']}×)",
        )
        for threads, level in r["levels"].items()
    ]


def details(r: dict) -> list[str]:
    """The table of both at each thread count, and how the users spread over the masters."""
    lines = [
        "| threads | one Redis /s | p50 / p99 ms | cluster /s | p50 / p99 ms | cluster ÷ Redis |",
        "|---|---|---|---|---|---|",
    ]
    for threads, level in r["levels"].items():
        one, many = level["redis"], level["cluster"]
        cells = [
            f"{x['searches_per_s']:,} | {x['latency_ms']['p50']} / {x['latency_ms']['p99']}"
            for x in (one, many)
        ]
        lines.append(f"| {threads} | {cells[0]} | {cells[1]} | {level['ratio_cluster_redis']} |")
    lines += [
        "",
        f"{r['users']} users × {r['queries_per_user']} queries, every search an L2 hit (three round trips), "
        f"{r['seconds_per_level']} s per level, in the bench process through `SearchService.search` "
        f"(no HTTP). Users per master: {r['users_per_node']}.",
        "",
    ]
    return lines
