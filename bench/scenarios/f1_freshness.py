"""F1 freshness: from a write's 201 until L3 and L2 reflect it, with one and with two worker children.

Writer threads each own a user (memories and two hot queries). Each writes over HTTP (flow A) and
then polls ``GET /v1/users/{u}/cache`` until ``built_from`` reaches the write's watermark and the
user is not stale (L3), and until ``generation_built_from`` does (L2: the hot queries re-run and
the new generation published). The pool is resized in place (Celery ``pool_shrink``/``pool_grow``)
and restored at the end. Polling every ``poll_ms`` bounds the resolution.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.data import DataGen, UserData
from bench.output import say
from bench.seed import seed_users
from bench.stats import line, summary

ID = "F1"
TITLE = "Freshness: write 201 -> L3 and L2 reflect it (1 vs 2 worker children)"
TIMEOUT_S = 30.0
SIZES = {
    "tiny": {"writers": 2, "writes": 2, "poll_ms": 20},
    "quick": {"writers": 3, "writes": 15, "poll_ms": 20},
    "full": {"writers": 3, "writes": 60, "poll_ms": 20},
}
LEVELS = (1, 2)


def _writer(stack, user: UserData, p: dict, seed: int) -> dict[str, list[float]]:
    data, rng = DataGen(seed=seed), np.random.default_rng(seed)
    lags: dict[str, list[float]] = {"L3": [], "L2": [], "timeouts": []}
    for _ in range(p["writes"]):
        for _ in range(20):  # a fact the user already stated changes nothing (NONE): draw another
            reply = stack.api.write(user.user_id, data.memory()[0])
            written = time.perf_counter()
            watermark = reply.body.get("cache", {}).get("watermark")
            memories = reply.body.get("memories") or []
            if not (reply.status == 201 and memories and all(m.get("event") == "NONE" for m in memories)):
                break
        if reply.status != 201 or watermark is None:
            raise RuntimeError(f"write answered {reply.status}: {reply.body}")
        seen: dict[str, float] = {}
        while len(seen) < 2 and time.perf_counter() - written < TIMEOUT_S:
            status = stack.api.cache_status(user.user_id).body
            now = (time.perf_counter() - written) * 1000
            if "L3" not in seen and (status.get("built_from") or 0) >= watermark and not status.get("stale"):
                seen["L3"] = now
            if "L2" not in seen and (status.get("generation_built_from") or 0) >= watermark:
                seen["L2"] = now
            time.sleep(p["poll_ms"] / 1000)
        for tier in ("L3", "L2"):
            if tier in seen:
                lags[tier].append(seen[tier])
            else:
                lags["timeouts"].append(1.0)
        time.sleep(float(rng.uniform(0.05, 0.25)))  # a pause, as between a user's messages
    return lags


def _measure(stack, users: list[UserData], p: dict) -> dict:
    with ThreadPoolExecutor(len(users)) as pool:
        parts = list(pool.map(lambda iu: _writer(stack, iu[1], p, 100 + iu[0]), enumerate(users)))
    merged = {key: [v for part in parts for v in part[key]] for key in ("L3", "L2", "timeouts")}
    return {
        "writes": len(users) * p["writes"],
        "L3_ms": summary(merged["L3"]),
        "L2_ms": summary(merged["L2"]),
        "timeouts": len(merged["timeouts"]),
    }


def run(stack, size: str) -> dict:
    p = SIZES[size]
    data = DataGen(seed=51, token=stack.token)
    users = seed_users(stack, data, f"{stack.token}-f1", p["writers"], 5, 2)
    for user in users:  # hot queries, so rebuilds have L2 work to do
        for query in user.queries:
            stack.api.search(user.user_id, query)
    original = stack.pool_size()
    result: dict = {
        "writers": p["writers"],
        "poll_ms": p["poll_ms"],
        "default_children": original,
        "by_children": {},
    }
    try:
        for children in sorted(LEVELS, key=lambda n: n != original):  # the current size first: no resize
            stack.wait_idle()
            if stack.pool_size() != children:
                say(ID, f"resizing the worker pool to {children} ...")
                stack.set_pool_size(children)
            figures = _measure(stack, users, p)
            result["by_children"][str(children)] = figures
            say(ID, line(f"{children} child(ren): L3", figures["L3_ms"]))
            say(
                ID, line(f"{children} child(ren): L2", figures["L2_ms"]) + f"  timeouts={figures['timeouts']}"
            )
    finally:
        if stack.pool_size() != original:
            stack.wait_idle()
            stack.set_pool_size(original)
    return result
