"""W1 write latency: raw ``platform.mem0.add`` in-process vs flow A and flow B over HTTP, interleaved.

Each round writes the same sentence three ways, in a shuffled order: the raw L4 add (the fact's
metadata as the extractor makes it), ``POST /v1/users/{u}/memories`` (flow A: L4, then the
hand-off), and the same with ``X-Write-Mode: strict`` (flow B: L4, then the whole rebuild inline).
"""

from __future__ import annotations

import time

import numpy as np

from bench.data import DataGen
from bench.output import say
from bench.stats import line, ratio, summary
from memcache_platform.extractors.rules import RulesExtractor

ID = "W1"
TITLE = "Write latency: raw L4 add vs flow A vs flow B"
SIZES = {
    "tiny": {"rounds": 3, "warmup": 1, "users": 2},
    "quick": {"rounds": 100, "warmup": 5, "users": 10},
    "full": {"rounds": 500, "warmup": 10, "users": 20},
}


def run(stack, size: str) -> dict:
    p = SIZES[size]
    data = DataGen(seed=11, token=stack.token)
    rng = np.random.default_rng(11)
    extractor = RulesExtractor()
    users = [f"{stack.token}-w1-{i}" for i in range(p["users"])]
    samples: dict[str, list[float]] = {"raw": [], "A": [], "B": []}

    def write(mode: str, user: str, text: str) -> float:
        if mode == "raw":
            fact = extractor.extract([{"role": "user", "content": text}])[0]
            meta = fact.metadata() | {"extractor": "rules"}
            started = time.perf_counter()
            stack.platform.mem0.add(text, user_id=user, metadata=meta)
            return (time.perf_counter() - started) * 1000
        reply = stack.api.write(user, text, mode="strict" if mode == "B" else None)
        if reply.status != 201:  # with every server up, any other answer is a broken run
            raise RuntimeError(f"flow {mode} write answered {reply.status}: {reply.body}")
        return reply.ms

    total = p["warmup"] + p["rounds"]
    for i in range(total):
        text, _ = data.memory()
        user = users[i % len(users)]
        for mode in rng.permutation(["raw", "A", "B"]):
            ms = write(str(mode), user, text)
            if i >= p["warmup"]:
                samples[str(mode)].append(ms)
        if i >= p["warmup"] and (i + 1 - p["warmup"]) % max(1, p["rounds"] // 4) == 0:
            say(ID, f"{i + 1 - p['warmup']}/{p['rounds']} rounds")
    stats = {mode: summary(values) for mode, values in samples.items()}
    for name, mode in (("raw mem0.add (in-process)", "raw"), ("flow A (HTTP)", "A"), ("flow B (HTTP)", "B")):
        say(ID, line(name, stats[mode]))
    result = {
        "rounds": p["rounds"],
        "latency_ms": stats,
        "ratio_A_raw": {q: ratio(stats["A"][q], stats["raw"][q]) for q in ("p50", "p95", "p99")},
        "ratio_B_A": {q: ratio(stats["B"][q], stats["A"][q]) for q in ("p50", "p95", "p99")},
        "overhead_A_ms": {
            q: None
            if stats["A"][q] is None or stats["raw"][q] is None
            else round(stats["A"][q] - stats["raw"][q], 3)
            for q in ("p50", "p95", "p99")
        },
        "samples_ms": {mode: [round(v, 3) for v in values] for mode, values in samples.items()},
    }
    say(
        ID,
        f"A/raw p50={result['ratio_A_raw']['p50']} p99={result['ratio_A_raw']['p99']}  "
        f"B/A p50={result['ratio_B_A']['p50']} p99={result['ratio_B_A']['p99']}",
    )
    return result
