"""R2 L2 hit ratio under a Zipf(1.1) query stream over users, without and with proactive warming.

The users are realistic (``bench/conversations.py``): each has a conversation of hundreds of turns
behind them, seeded in bulk. Two populations with the same users, memories, queries and stream.
Each starts warm: each user's most popular questions were asked once (so they are the user's hot
queries and sit in L1 and L2). Then the stream: each event picks a user by Zipf(1.1) and one of
their questions by Zipf(1.1), so the same questions come back; one event in ten is a write (the
user's next chat turn that states a fact, through the real write path: L4 and the watermark bump,
no hand-off), the others are searches over HTTP whose ``tier`` is counted. A turn that only
restates what the user said changes nothing in L4 and leaves their L2 entries valid.

* without warming: a write leaves the user's L2 stale; the next search of each query misses.
* with warming: after a write, ``POST /v1/users/{u}/cache/warm`` and its task are awaited: the
  worker's rebuild re-runs the hot queries into a new generation before the next event.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from bench.conversations import Conversation, ConversationGen
from bench.output import say
from bench.seed import seed_conversations
from bench.stats import summary

ID = "R2"
TITLE = "L2 hit ratio on a Zipf(1.1) stream, without and with warming"
LIMIT = 5
SIZES = {
    "tiny": {"users": 5, "turns": 10, "queries": 2, "events": 30, "write_share": 0.1},
    "quick": {"users": 40, "turns": 80, "queries": 4, "events": 600, "write_share": 0.1},
    "full": {"users": 200, "turns": 300, "queries": 6, "events": 5000, "write_share": 0.1},
}


def _population(stack, p: dict, name: str) -> tuple[list[Conversation], dict]:
    gen = ConversationGen(seed=41, token=stack.token)  # the same users for both populations
    users = [
        replace(c, queries=c.queries[: p["queries"]])  # the most asked questions: the hot ones
        for c in gen.conversations(f"{stack.token}-r2{name}", p["users"], p["turns"])
    ]
    dataset = seed_conversations(stack, users)

    def ask_all(user: Conversation) -> None:
        for query in user.queries:
            stack.platform.search.search(user.user_id, query, limit=LIMIT)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(ask_all, users))
    return users, dataset


def _stream(stack, p: dict, users: list[Conversation], warming: bool) -> dict:
    rng = np.random.default_rng(42)
    gen = ConversationGen(seed=41, token=stack.token)
    stream = gen.query_stream(users, p["events"], s=1.1)
    is_write = (rng.random(len(stream)) < p["write_share"]).tolist()
    # What each user says next, as many turns as the stream makes them write.
    writers = [index for (index, _), write in zip(stream, is_write, strict=True) if write]
    upcoming = {i: iter(gen.stating(users[i], writers.count(i))) for i in set(writers)}
    tiers = {"L2": 0, "L4": 0}
    search_ms, warm_ms, writes, changed = [], [], 0, 0
    for (index, query), write in zip(stream, is_write, strict=True):
        user = users[index]
        if write:
            turn = next(upcoming[index])
            written = stack.platform.extraction.extract_facts(user.user_id, turn.messages())
            writes += 1
            changed += written.changed
            if warming:
                started = time.perf_counter()
                state = stack.api.wait_task(stack.api.warm(user.user_id))
                if state.get("state") != "SUCCESS":
                    raise RuntimeError(f"warm task of {user.user_id}: {state}")
                warm_ms.append((time.perf_counter() - started) * 1000)
            continue
        reply = stack.api.search(user.user_id, query, LIMIT)
        if reply.status != 200:
            raise RuntimeError(f"search answered {reply.status}: {reply.body}")
        tiers[reply.body["tier"]] = tiers.get(reply.body["tier"], 0) + 1
        search_ms.append(reply.ms)
    searches = sum(tiers.values())
    return {
        "events": int(p["events"]),
        "writes": writes,
        "writes_that_changed_l4": changed,
        "searches": searches,
        "distinct_questions": len(set(stream)),
        "tiers": tiers,
        "hit_ratio": round(tiers["L2"] / searches, 4) if searches else None,
        "distinct_users": len({u for u, _ in stream}),
        "search_latency_ms": summary(search_ms),
        "warm_wait_ms": summary(warm_ms),  # POST .../cache/warm until its task succeeded
    }


def run(stack, size: str) -> dict:
    p = SIZES[size]
    result: dict = {"users": p["users"], "zipf_s": 1.1, "write_share": p["write_share"]}
    for name, warming in (("without_warming", False), ("with_warming", True)):
        users, result["dataset"] = _population(stack, p, "w" if warming else "n")
        say(ID, f"{name}: {len(users)} users seeded and warm; streaming {p['events']} events ...")
        result[name] = figures = _stream(stack, p, users, warming)
        say(
            ID,
            f"{name}: L2 hit ratio {figures['hit_ratio']:.1%} ({figures['tiers']}), "
            f"{figures['writes']} writes, {figures['distinct_users']} distinct users, "
            f"search p50 {figures['search_latency_ms']['p50']} ms",
        )
    return result
