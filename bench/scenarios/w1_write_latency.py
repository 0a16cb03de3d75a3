"""W1 write latency: raw ``platform.mem0.add`` in-process vs flow A and flow B over HTTP, interleaved.

The users are realistic (``bench/conversations.py``): each has a conversation of hundreds of
turns behind them, seeded three times over, once per way of writing, so each way writes to users
in the same state. Each round then writes the user's next chat turn that states a fact, three
ways, in a shuffled order: the raw L4 adds (each fact of the turn with its metadata as the
extractor makes it, embedded in one batch, no supersede decisions), ``POST /v1/users/{u}/memories``
(flow A: read the user's memories, decide, write L4, then the hand-off), and the same with
``X-Write-Mode: strict`` (flow B: L4, then the whole rebuild inline).
"""

from __future__ import annotations

import time

import numpy as np

from bench.conversations import ConversationGen
from bench.output import say
from bench.seed import seed_conversations
from bench.stats import line, ratio, summary
from memcache_platform.extractors.rules import RulesExtractor

ID = "W1"
TITLE = "Write latency: raw L4 add vs flow A vs flow B"
SIZES = {
    "tiny": {"rounds": 3, "warmup": 1, "users": 2, "history": 10},
    "quick": {"rounds": 100, "warmup": 5, "users": 10, "history": 80},
    "full": {"rounds": 500, "warmup": 10, "users": 20, "history": 300},
}
MODES = ("raw", "A", "B")


def run(stack, size: str) -> dict:
    p = SIZES[size]
    gen = ConversationGen(seed=11, token=stack.token)
    rng = np.random.default_rng(11)
    extractor = RulesExtractor()
    total = p["warmup"] + p["rounds"]
    histories = {
        mode: gen.conversations(f"{stack.token}-w1{mode}", p["users"], p["history"]) for mode in MODES
    }
    dataset = {}
    for mode in MODES:  # three identical populations: each way of writing has users in the same state
        dataset = seed_conversations(stack, histories[mode])
    say(ID, f"seeded 3 × {dataset['users']} users, {dataset['memories_per_user']} memories each")
    per_user = -(-total // p["users"])
    upcoming = [gen.stating(c, per_user) for c in histories["raw"]]
    samples: dict[str, list[float]] = {"raw": [], "A": [], "B": []}

    def write(mode: str, user: str, text: str) -> float:
        if mode == "raw":
            facts = extractor.extract([{"role": "user", "content": text}])
            started = time.perf_counter()
            with stack.platform.mem0.embedding_batch([f.text for f in facts]):
                for fact in facts:
                    meta = fact.metadata() | {"extractor": "rules"}
                    stack.platform.mem0.add(fact.text, user_id=user, metadata=meta)
            return (time.perf_counter() - started) * 1000
        reply = stack.api.write(user, text, mode="strict" if mode == "B" else None)
        if reply.status != 201:  # with every server up, any other answer is a broken run
            raise RuntimeError(f"flow {mode} write answered {reply.status}: {reply.body}")
        return reply.ms

    for i in range(total):
        index = i % p["users"]
        text = upcoming[index][i // p["users"]].text
        for mode in rng.permutation(MODES):
            ms = write(str(mode), histories[str(mode)][index].user_id, text)
            if i >= p["warmup"]:
                samples[str(mode)].append(ms)
        if i >= p["warmup"] and (i + 1 - p["warmup"]) % max(1, p["rounds"] // 4) == 0:
            say(ID, f"{i + 1 - p['warmup']}/{p['rounds']} rounds")
    stats = {mode: summary(values) for mode, values in samples.items()}
    for name, mode in (("raw mem0.add (in-process)", "raw"), ("flow A (HTTP)", "A"), ("flow B (HTTP)", "B")):
        say(ID, line(name, stats[mode]))
    result = {
        "rounds": p["rounds"],
        "dataset": dataset,
        "facts_per_write": round(
            sum(len(upcoming[i % p["users"]][i // p["users"]].facts) for i in range(p["warmup"], total))
            / p["rounds"],
            2,
        ),
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
