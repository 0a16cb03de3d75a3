"""R3 stampede: N threads send the same never-seen search at once; how many L4 searches does it cost?

The L4 searches are counted by the platform itself: the delta of
``memcache_l4_calls_total{operation="search"}`` in ``/metrics`` (web and worker processes), read
once the worker is idle so no rebuild's searches are counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bench.data import DataGen
from bench.output import say
from bench.seed import seed_users
from bench.stats import line, summary

ID = "R3"
TITLE = "Stampede: concurrent identical cold searches vs L4 searches"
SIZES = {
    "tiny": {"threads": 20, "rounds": 1},
    "quick": {"threads": 200, "rounds": 2},
    "full": {"threads": 200, "rounds": 5},
}


def _round(stack, user: str, query: str, threads: int) -> dict:
    barrier = threading.Barrier(threads)

    def one(_: int) -> tuple[int, str | None, float]:
        session = stack.api.session  # open the thread's session before the barrier
        del session
        barrier.wait()
        reply = stack.api.search(user, query)
        return reply.status, reply.body.get("tier"), reply.ms

    stack.wait_idle()
    before = stack.l4_calls("search")
    with ThreadPoolExecutor(threads) as pool:
        replies = list(pool.map(one, range(threads)))
    after = stack.l4_calls("search")
    return {
        "l4_searches": int(after - before),
        "tiers": dict(Counter(tier or f"HTTP {status}" for status, tier, _ in replies)),
        "errors": sum(status != 200 for status, _, _ in replies),
        "latency_ms": summary([ms for status, _, ms in replies if status == 200]),
    }


def run(stack, size: str) -> dict:
    p = SIZES[size]
    data = DataGen(seed=31, token=stack.token)
    user = seed_users(stack, data, f"{stack.token}-r3", 1, 10, 1)[0].user_id
    rounds = []
    for i in range(p["rounds"]):
        result = _round(stack, user, data.fresh_query(), p["threads"])
        rounds.append(result)
        say(
            ID,
            f"round {i + 1}: {p['threads']} concurrent misses -> {result['l4_searches']} L4 searches, "
            f"tiers {result['tiers']}, errors {result['errors']}",
        )
        say(ID, line("  latency", result["latency_ms"]))
    searches = [r["l4_searches"] for r in rounds]
    return {
        "threads": p["threads"],
        "rounds": rounds,
        "l4_searches_max": max(searches),
        "l4_searches_mean": round(sum(searches) / len(searches), 2),
        "errors": sum(r["errors"] for r in rounds),
    }
