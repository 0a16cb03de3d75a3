"""H1 the hosted Mem0 platform at 150 ms per request: raw ``MemoryClient`` vs the platform in front.

The chained stand-in of ``memcache_platform/dev/hosted_chain.py``: platform A (``hosted`` backend,
served over HTTP in this process, its tasks in threads) → a TCP proxy adding 150 ms to every
request and counting them → platform B (the bench's Mem0, local backend, async adds on). Side by
side in one run:

* search: raw ``MemoryClient.search`` to B through the proxy; A cold (a query A never saw: L2 miss,
  one hosted search); A L2 hit (the same query again).
* write: raw ``MemoryClient.add(infer=False)``; flow A through A's Mem0-compatible API with the same
  call (stored as is); flow A through v1 (rules extraction: its supersede ``get_all`` is one more
  hosted call); flow B (v1 strict: waits for the event, then rebuilds inline).
* freshness: a v1 write, then the user's searches back to back until one includes the memory.
* the bill: requests reaching B per 1,000 searches of a Zipf(1.1) stream over users and queries
  (one event in twenty a write), with warming (each write's hand-off and event rebuild re-run the
  user's hot queries), against 1,000 for the raw client.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.data import DataGen, UserData
from bench.output import say
from bench.seed import seed_users
from bench.stack import ADMIN_KEY, API_KEY
from bench.stats import line, ratio, summary
from config.settings import _redis_db_url

ID = "H1"
TITLE = "Hosted Mem0 at 150 ms: raw MemoryClient vs the platform in front (chained stand-in)"
LATENCY_S = 0.15
LIMIT = 5
FRESH_TIMEOUT_S = 30.0
SIZES = {
    "tiny": {"users": 2, "memories": 2, "queries": 2, "samples": 4, "writes": 2, "stream": 40},
    "quick": {"users": 10, "memories": 3, "queries": 3, "samples": 30, "writes": 10, "stream": 1000},
    "full": {"users": 40, "memories": 4, "queries": 3, "samples": 100, "writes": 30, "stream": 4000},
}


def _chain(stack) -> Any:
    from memcache_platform.dev.hosted_chain import HostedChain

    s = stack.settings
    # A's own L3 database when the bench started PostgreSQL; servers given by URL share B's (rows
    # are per user, and H1's users are its own).
    l3 = stack.l3_pg.create_database("memcache_bench_h1a") if stack.l3_pg is not None else s.database_url
    return HostedChain(
        s, stack.platform.mem0, api_key=API_KEY, redis_url_a=_redis_db_url(s.redis_url, 6),
        database_url_a=l3, latency_s=LATENCY_S, serve_a=True,
    )  # fmt: skip


def _timed(fn, *args: Any, **kwargs: Any) -> float:  # type: ignore[no-untyped-def]
    """Milliseconds one call took."""
    started = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def _searches(chain, api, raw, users: list[UserData], n: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"raw": [], "cold": [], "l2_hit": []}
    tiers: dict[str, int] = {}
    for i in range(n):
        user = users[i % len(users)]
        query = f"{user.queries[i % len(user.queries)]} #{i}"  # never asked before: a cold search for A
        samples["raw"].append(_timed(raw.search, query, filters={"user_id": user.user_id}, top_k=LIMIT))
        for name in ("cold", "l2_hit"):
            reply = api.search(user.user_id, query, LIMIT)
            if reply.status != 200:
                raise RuntimeError(f"search answered {reply.status}: {reply.body}")
            tiers[f"{name}:{reply.body['tier']}"] = tiers.get(f"{name}:{reply.body['tier']}", 0) + 1
            samples[name].append(reply.ms)
    figures = {name: summary(values) for name, values in samples.items()}
    figures["tiers"] = tiers
    figures["l2_hit_vs_raw_p50"] = ratio(figures["raw"]["p50"], figures["l2_hit"]["p50"])
    return figures


def _writes(chain, api, raw, via_a, users: list[UserData], n: int) -> dict[str, Any]:
    data = DataGen(seed=61, token="h1w")
    samples: dict[str, list[float]] = {"raw": [], "A_compat": [], "A_v1": [], "B_v1": []}
    statuses: dict[str, int] = {}
    errors: list[dict] = []
    for i in range(n):
        # The seeded users: a single-valued fact they already hold is an UPDATE (update with metadata).
        user = users[i % len(users)].user_id
        texts = [data.memory()[0] for _ in range(4)]
        samples["raw"].append(_timed(raw.add, texts[0], user_id=user, infer=False))
        samples["A_compat"].append(_timed(via_a.add, texts[1], user_id=user, infer=False))
        for name, text, mode in (("A_v1", texts[2], None), ("B_v1", texts[3], "strict")):
            reply = api.write(user, text, mode=mode)
            statuses[f"{name}:{reply.status}"] = statuses.get(f"{name}:{reply.status}", 0) + 1
            if reply.status >= 300 and len(errors) < 3:
                errors.append(reply.body)
            samples[name].append(reply.ms)
    chain.tasks.finish()
    chain.tasks.rebuilt()
    figures = {name: summary(values) for name, values in samples.items()}
    figures["statuses"], figures["errors"] = statuses, errors
    raw_p50, a_p50 = figures["raw"]["p50"], figures["A_compat"]["p50"]
    figures["A_compat_over_raw_p50_ms"] = None if raw_p50 is None else round(a_p50 - raw_p50, 3)
    return figures


def _freshness(chain, api, users: list[UserData], n: int) -> dict[str, Any]:
    data = DataGen(seed=62, token="h1f")
    lags, timeouts = [], 0
    for i in range(n):
        user = users[i % len(users)].user_id  # an UPDATE's new text is what the search must find
        text, kind = data.memory()
        query = data.query_for(kind)
        started = time.perf_counter()
        reply = api.write(user, text)
        stored = {m["memory"] for m in reply.body.get("memories", []) if m.get("event") != "NONE"}
        if reply.status != 201 or not stored:
            continue  # a restated fact changes nothing: nothing to find
        while time.perf_counter() - started < FRESH_TIMEOUT_S:
            hits = api.search(user, query, 10).body.get("results", [])
            if stored & {hit["memory"] for hit in hits}:
                lags.append((time.perf_counter() - started) * 1000)
                break
        else:
            timeouts += 1
    chain.tasks.finish()
    chain.tasks.rebuilt()
    return {"write_to_search_ms": summary(lags), "timeouts": timeouts}


def _bill(chain, api, users: list[UserData], p: dict) -> dict[str, Any]:
    """Requests reaching B during a Zipf(1.1) stream of searches (one event in twenty a write)."""
    for user in users:  # warm: each user's queries asked once (hot), then rebuilt into L2
        for query in user.queries:
            api.search(user.user_id, query, LIMIT)
        chain.tasks.enqueue_rebuild(user.user_id, force=True)
    chain.tasks.rebuilt()
    rng, data = np.random.default_rng(63), DataGen(seed=64, token="h1b")
    ranks = DataGen(seed=65).zipf_ranks(len(users), p["stream"], s=1.1)
    before, searches, writes, tiers = chain.proxy.requests, 0, 0, {"L2": 0, "L4": 0}
    for rank in ranks:
        user = users[int(rank)]
        if rng.random() < 0.05:
            api.write(user.user_id, data.memory()[0])
            writes += 1
            continue
        reply = api.search(user.user_id, user.queries[int(rng.integers(len(user.queries)))], LIMIT)
        tiers[reply.body.get("tier", "L4")] = tiers.get(reply.body.get("tier", "L4"), 0) + 1
        searches += 1
    chain.tasks.finish()
    chain.tasks.rebuilt()
    requests = chain.proxy.requests - before
    return {
        "searches": searches,
        "writes": writes,
        "tiers": tiers,
        "b_requests": requests,  # searches, adds, event polls, rebuilds' get_all and hot queries
        "b_requests_per_1000_searches": round(requests * 1000 / searches, 1) if searches else None,
        "raw_requests_per_1000_searches": 1000,
    }


def run(stack, size: str) -> dict:
    from mem0 import MemoryClient

    p = SIZES[size]
    data = DataGen(seed=60, token=stack.token)
    users = seed_users(stack, data, f"{stack.token}-h1", p["users"], p["memories"], p["queries"], build=False)
    chain = _chain(stack)
    try:
        from bench.api import Api

        api = Api(chain.host_a, ADMIN_KEY)
        raw = MemoryClient(api_key=API_KEY, host=chain.host_proxy)
        via_a = MemoryClient(api_key=API_KEY, host=chain.host_a)
        result: dict[str, Any] = {"latency_ms": LATENCY_S * 1000, "users": p["users"]}
        result["search"] = s = _searches(chain, api, raw, users, p["samples"])
        for name in ("raw", "cold", "l2_hit"):
            say(ID, line(f"search {name}", s[name]))
        say(ID, f"L2 hit vs raw hosted search, p50: {s['l2_hit_vs_raw_p50']}×  ({s['tiers']})")
        result["write"] = w = _writes(chain, api, raw, via_a, users, p["writes"])
        for name in ("raw", "A_compat", "A_v1", "B_v1"):
            say(ID, line(f"write {name}", w[name]))
        say(ID, f"flow A (same MemoryClient call) over raw add, p50: {w['A_compat_over_raw_p50_ms']} ms")
        result["freshness"] = f = _freshness(chain, api, users, p["writes"])
        say(ID, line("write -> search finds it", f["write_to_search_ms"]) + f"  timeouts={f['timeouts']}")
        result["bill"] = b = _bill(chain, api, users, p)
        say(ID, f"requests reaching B per 1,000 searches: {b['b_requests_per_1000_searches']} (raw: 1000)")
    finally:
        chain.close()
    return result
