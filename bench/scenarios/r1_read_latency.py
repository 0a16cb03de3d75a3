"""R1 read latency per tier over HTTP (``GET /v1/users/{u}/search``).

Per round, for a user with memories: a never-seen query (cold: the model embeds it, L4 searches,
L2 is filled), the same query again (an L2 hit), then the user's watermark is bumped as a write
does, which makes the L2 entry stale while the query's embedding stays in L1, and the query once
more (L1 hit with an L4 search). The bump is made in-process without a hand-off, so no rebuild
re-warms the entry before the read.

Then the L2 hit beside ``/healthz``, the floor of the same server and client: alternating blocks
of each at 1 and at 16 connections (``bench/beside.py``), the hits spread over the entries the
rounds left in L2, with p50/p99 and requests per second of each.
"""

from __future__ import annotations

from bench.beside import alternate
from bench.data import DataGen
from bench.output import say
from bench.seed import seed_users
from bench.stats import line, ratio, summary

ID = "R1"
TITLE = "Read latency per tier: L2 hit, L1 hit + L4 search, cold"
SIZES = {
    "tiny": {"rounds": 3, "users": 1, "memories": 5, "blocks": 1, "per_block": 16},
    "quick": {"rounds": 100, "users": 4, "memories": 20, "blocks": 3, "per_block": 400},
    "full": {"rounds": 500, "users": 10, "memories": 40, "blocks": 6, "per_block": 2000},
}
CONNECTIONS = (1, 16)
TIERS = {"cold": "L4", "L2": "L2", "L1+L4": "L4"}


def run(stack, size: str) -> dict:
    p = SIZES[size]
    data = DataGen(seed=21, token=stack.token)
    users = seed_users(stack, data, f"{stack.token}-r1", p["users"], p["memories"], 1)
    samples: dict[str, list[float]] = {name: [] for name in TIERS}
    unexpected: dict[str, int] = {name: 0 for name in TIERS}
    cached: list[tuple[str, str]] = []  # (user, query) left in L2 by each round's last search
    for i in range(p["rounds"] + 1):  # round 0 warms connections and is not counted
        user = users[i % len(users)].user_id
        query = data.fresh_query()
        cached.append((user, query))
        for name in TIERS:
            if name == "L1+L4":
                stack.platform.watermarks.bump(user)
            reply = stack.api.search(user, query)
            if reply.status != 200:
                raise RuntimeError(f"search answered {reply.status}: {reply.body}")
            if i == 0:
                continue
            samples[name].append(reply.ms)
            if reply.body.get("tier") != TIERS[name]:
                unexpected[name] += 1
        if i and i % max(1, p["rounds"] // 4) == 0:
            say(ID, f"{i}/{p['rounds']} rounds")
    stats = {name: summary(values) for name, values in samples.items()}
    for name in TIERS:
        say(ID, line(f"{name} (tier {TIERS[name]})", stats[name]))
    result = {
        "rounds": p["rounds"],
        "memories_per_user": p["memories"],
        "latency_ms": stats,
        "unexpected_tier": unexpected,
        "ratio_cold_L2": {q: ratio(stats["cold"][q], stats["L2"][q]) for q in ("p50", "p99")},
        "ratio_L1L4_L2": {q: ratio(stats["L1+L4"][q], stats["L2"][q]) for q in ("p50", "p99")},
        "samples_ms": {name: [round(v, 3) for v in values] for name, values in samples.items()},
    }
    say(
        ID,
        f"cold/L2 p50={result['ratio_cold_L2']['p50']}x p99={result['ratio_cold_L2']['p99']}x; "
        f"unexpected tiers {unexpected}",
    )
    result["beside_healthz"] = {str(c): _beside_healthz(stack, cached, c, p) for c in CONNECTIONS}
    return result


def _beside_healthz(stack, cached: list[tuple[str, str]], connections: int, p: dict) -> dict:
    """L2 hits and ``/healthz`` in alternating blocks over ``connections`` keep-alive connections."""

    def hit(connection: int, n: int):  # type: ignore[no-untyped-def]
        user, query = cached[(connection * 7919 + n) % len(cached)]  # connections spread over entries
        return stack.api.search(user, query)

    kinds = alternate(
        {"healthz": lambda _c, _n: stack.api.call("GET", "/healthz"), "L2": hit},
        connections=connections,
        blocks=p["blocks"],
        per_block=p["per_block"],
    )
    hits = kinds["L2"].pop("bodies")
    kinds["healthz"].pop("bodies")
    out = kinds | {
        "connections": connections,
        "not_l2": sum(body.get("tier") != "L2" for body in hits),
        "ratio_p50": ratio(kinds["L2"]["latency_ms"]["p50"], kinds["healthz"]["latency_ms"]["p50"]),
        "ratio_p99": ratio(kinds["L2"]["latency_ms"]["p99"], kinds["healthz"]["latency_ms"]["p99"]),
    }
    for name in ("healthz", "L2"):
        say(ID, line(f"{name} x{connections} ({kinds[name]['req_s']} req/s)", kinds[name]["latency_ms"]))
    say(ID, f"L2/healthz at {connections} connections: p50 {out['ratio_p50']}x, p99 {out['ratio_p99']}x")
    return out
