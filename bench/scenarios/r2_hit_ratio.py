"""R2 L2 hit ratio under a Zipf(1.1) query stream over users, without and with proactive warming.

Two populations with the same users, memories, queries and stream. Each starts warm: every user's
queries were asked once (so they are the user's hot queries and sit in L1 and L2). Then the stream:
each event picks a user by Zipf(1.1); one event in ten is a write (the memory stored in L4 and the
watermark bumped, no hand-off), the others are searches over HTTP whose ``tier`` is counted.

* without warming: a write leaves the user's L2 stale; the next search of each query misses.
* with warming: after a write, ``POST /v1/users/{u}/cache/warm`` and its task are awaited: the
  worker's rebuild re-runs the hot queries into a new generation before the next event.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.data import DataGen, UserData
from bench.output import say
from bench.seed import add_memory, seed_users
from bench.stats import summary

ID = "R2"
TITLE = "L2 hit ratio on a Zipf(1.1) stream, without and with warming"
LIMIT = 5
SIZES = {
    "tiny": {"users": 5, "memories": 2, "queries": 2, "events": 30, "write_share": 0.1},
    "quick": {"users": 100, "memories": 2, "queries": 3, "events": 600, "write_share": 0.1},
    "full": {"users": 1000, "memories": 3, "queries": 3, "events": 5000, "write_share": 0.1},
}


def _population(stack, p: dict, name: str) -> list[UserData]:
    data = DataGen(seed=41, token=stack.token)  # the same users for both populations
    users = seed_users(stack, data, f"{stack.token}-r2{name}", p["users"], p["memories"], p["queries"])

    def ask_all(user: UserData) -> None:
        for query in user.queries:
            stack.platform.search.search(user.user_id, query, limit=LIMIT)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(ask_all, users))
    return users


def _stream(stack, p: dict, users: list[UserData], warming: bool) -> dict:
    rng = np.random.default_rng(42)
    texts = DataGen(seed=43)
    ranks = DataGen(seed=44).zipf_ranks(len(users), p["events"], s=1.1)
    tiers = {"L2": 0, "L4": 0}
    search_ms, warm_ms, writes = [], [], 0
    for rank in ranks:
        user = users[int(rank)]
        if rng.random() < p["write_share"]:
            text, _ = texts.memory()
            add_memory(stack, user.user_id, text)
            stack.platform.watermarks.bump(user.user_id)
            writes += 1
            if warming:
                started = time.perf_counter()
                state = stack.api.wait_task(stack.api.warm(user.user_id))
                if state.get("state") != "SUCCESS":
                    raise RuntimeError(f"warm task of {user.user_id}: {state}")
                warm_ms.append((time.perf_counter() - started) * 1000)
            continue
        reply = stack.api.search(user.user_id, user.queries[int(rng.integers(len(user.queries)))], LIMIT)
        if reply.status != 200:
            raise RuntimeError(f"search answered {reply.status}: {reply.body}")
        tiers[reply.body["tier"]] = tiers.get(reply.body["tier"], 0) + 1
        search_ms.append(reply.ms)
    searches = sum(tiers.values())
    return {
        "events": int(p["events"]),
        "writes": writes,
        "searches": searches,
        "tiers": tiers,
        "hit_ratio": round(tiers["L2"] / searches, 4) if searches else None,
        "distinct_users": int(len(set(ranks.tolist()))),
        "search_latency_ms": summary(search_ms),
        "warm_wait_ms": summary(warm_ms),  # POST .../cache/warm until its task succeeded
    }


def run(stack, size: str) -> dict:
    p = SIZES[size]
    result: dict = {"users": p["users"], "zipf_s": 1.1, "write_share": p["write_share"]}
    for name, warming in (("without_warming", False), ("with_warming", True)):
        users = _population(stack, p, "w" if warming else "n")
        say(ID, f"{name}: {len(users)} users seeded and warm; streaming {p['events']} events ...")
        result[name] = figures = _stream(stack, p, users, warming)
        say(
            ID,
            f"{name}: L2 hit ratio {figures['hit_ratio']:.1%} ({figures['tiers']}), "
            f"{figures['writes']} writes, {figures['distinct_users']} distinct users, "
            f"search p50 {figures['search_latency_ms']['p50']} ms",
        )
    return result
