"""W3 batched writes: a 3-fact message vs a 1-fact message, and write throughput with 4 clients.

Latency: one client, rounds of one 1-fact and one 3-fact chat turn (shuffled order) for the same
users over HTTP (flow A), every fact new to its user so each one is an ADD (a controlled
comparison: fresh users, facts drawn without repeats). Throughput, the realistic workload
(``bench/conversations.py``): users with a conversation of hundreds of turns behind them (seeded
in bulk), then 4 clients post those users' next turns that state a fact (with the questions and
pleasantries in between, and the updates, retractions and restatements a conversation brings) for
many users at once, as fast as answers come. ``MEMCACHE_BENCH_W3_BASELINE`` may name the results
JSON of the same scenario run on the commit before batched writes (``MEMCACHE_BENCH_W3_BASELINE_COMMIT``
names that commit when the file does not): its throughput is the "before"; else the issue's figures.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench.conversations import ConversationGen
from bench.data import DISLIKES, FAVOURITE_TOPICS, FREE_FORM, LANGUAGES, LIKES, SKILLS
from bench.output import say
from bench.seed import seed_conversations
from bench.stats import line, ratio, summary

ID = "W3"
TITLE = "Batched writes: 3-fact vs 1-fact message, throughput with 4 clients"
SIZES = {
    "tiny": {"rounds": 3, "warmup": 1, "users": 2, "clients": 2, "turns": 8, "load_users": 4, "history": 10},
    "quick": {
        "rounds": 40,
        "warmup": 5,
        "users": 10,
        "clients": 4,
        "turns": 200,
        "load_users": 40,
        "history": 80,
    },
    "full": {
        "rounds": 300,
        "warmup": 10,
        "users": 40,
        "clients": 4,
        "turns": 1500,
        "load_users": 200,
        "history": 300,
    },
}
FILLERS = ["Anyway, how are you today?", "So, what should I cook tonight?", "Do you remember what I said?"]
ISSUE_BEFORE = {"writes_per_s": 21.0, "p50_ms": 162.0, "p95_ms": 426.0, "source": "issue 12"}


class FactPool:
    """Per user, sentences whose facts the user does not have yet: every one is an ADD, none repeats."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._left: dict[str, list[str]] = {}

    def _all(self) -> list[str]:
        # A value with a full stop ("Ursula K. Le Guin") would read as two sentences, two facts.
        clean = {topic: [x for x in v if "." not in x] for topic, v in FAVOURITE_TOPICS.items()}
        facts = [f"My favourite {topic} is {self.rng.choice(v)}" for topic, v in clean.items()]
        facts += [f"I love {x}" for x in LIKES] + [f"I hate {x}" for x in DISLIKES]
        facts += [f"I'm good at {x}" for x in SKILLS] + [f"I speak {x}" for x in LANGUAGES] + FREE_FORM
        return [facts[i] for i in self.rng.permutation(len(facts))]

    def take(self, user: str, n: int) -> list[str]:
        left = self._left.setdefault(user, self._all())
        if len(left) < n:
            raise RuntimeError(f"W3: user {user} ran out of new facts; use more users")
        taken, self._left[user] = left[:n], left[n:]
        return taken

    def turn(self, user: str, n: int) -> str:
        """A chat turn: ``n`` fact sentences, with a question that states nothing somewhere in between."""
        sentences = [f"{s}." for s in self.take(user, n)]
        sentences.insert(int(self.rng.integers(len(sentences) + 1)), str(self.rng.choice(FILLERS)))
        return " ".join(sentences)


def _post(stack, user: str, text: str, facts: int | None) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    """POST one turn: its time and decisions; with ``facts``, they must be that many ADDs."""
    reply = stack.api.write(user, text)
    got = [m.get("event") for m in reply.body.get("memories", [])]
    if reply.status != 201 or (facts is not None and got != ["ADD"] * facts):
        raise RuntimeError(f"W3 write of {facts} facts answered {reply.status}: {reply.body}")
    return reply.ms, got


def _latency(stack, p: dict, pool: FactPool, rng: np.random.Generator) -> dict:  # type: ignore[no-untyped-def]
    users = [f"{stack.token}-w3-{i}" for i in range(p["users"])]
    samples: dict[str, list[float]] = {"1": [], "3": []}
    for i in range(p["warmup"] + p["rounds"]):
        user = users[i % len(users)]
        for facts in rng.permutation([1, 3]):
            ms, _ = _post(stack, user, pool.turn(user, int(facts)), int(facts))
            if i >= p["warmup"]:
                samples[str(facts)].append(ms)
    stats = {k: summary(v) for k, v in samples.items()}
    for k in ("1", "3"):
        say(ID, line(f"{k}-fact message (HTTP)", stats[k]))
    return {"latency_ms": stats, "samples_ms": {k: [round(x, 3) for x in v] for k, v in samples.items()}}


def _load_turns(stack, p: dict, rng: np.random.Generator) -> tuple[list[tuple[str, str, int]], dict]:  # type: ignore[no-untyped-def]
    """Seeded users with their history, and ``turns`` (user, text, facts) of what they say next."""
    gen = ConversationGen(seed=13, token=stack.token)
    histories = gen.conversations(f"{stack.token}-w3-load", p["load_users"], p["history"])
    dataset = seed_conversations(stack, histories)
    say(ID, f"seeded {dataset['users']} users, {dataset['memories_per_user']} memories each")
    # Each user's share of the turns, in their own order; users interleaved at random.
    who = rng.integers(len(histories), size=p["turns"])
    upcoming = {i: iter(gen.stating(histories[i], int((who == i).sum()))) for i in set(who.tolist())}
    turns = []
    for index in who.tolist():
        turn = next(upcoming[index])
        turns.append((histories[index].user_id, turn.text, len(turn.facts)))
    return turns, dataset


def _throughput(stack, p: dict, rng: np.random.Generator) -> dict:  # type: ignore[no-untyped-def]
    # The turns are drawn before the clock starts: the clients only send.
    turns, dataset = _load_turns(stack, p, rng)
    events: Counter = Counter()
    lock, next_turn, latencies, errors = threading.Lock(), iter(turns), [], []

    def client() -> None:
        while True:
            with lock:
                item = next(next_turn, None)
            if item is None:
                return
            user, text, _facts = item
            try:
                ms, decided = _post(stack, user, text, None)
            except Exception as exc:  # noqa: BLE001 - counted, and the run fails below
                errors.append(repr(exc)[:300])
                continue
            with lock:
                latencies.append(ms)
                events.update(decided)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, name=f"w3-client-{i}") for i in range(p["clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"W3: {len(errors)} of {len(turns)} writes failed, first: {errors[0]}")
    facts = sum(f for _, _, f in turns)
    result = {
        "clients": p["clients"],
        "writes": len(turns),
        "facts": facts,
        "facts_per_write": round(facts / len(turns), 2),
        "users": dataset["users"],
        "dataset": dataset,
        "events": dict(events),
        "elapsed_s": round(elapsed, 2),
        "writes_per_s": round(len(turns) / elapsed, 1),
        "facts_per_s": round(facts / elapsed, 1),
        "latency_ms": summary(latencies),
    }
    say(ID, f"{p['clients']} clients: {result['writes_per_s']} writes/s ({result['facts_per_s']} facts/s)")
    say(ID, line(f"write, {p['clients']} clients", result["latency_ms"]))
    return result


def _baseline() -> dict:
    """The "before" figures: a W3 run on the previous commit when named, else the issue's."""
    path = os.environ.get("MEMCACHE_BENCH_W3_BASELINE")
    if not path:
        return ISSUE_BEFORE
    earlier = json.loads(Path(path).read_text())
    load = earlier["scenarios"]["W3"]["throughput"]
    # A run from an exported tree (git archive) has no commit of its own: the caller names it.
    commit = earlier["meta"].get("git_commit") or os.environ.get("MEMCACHE_BENCH_W3_BASELINE_COMMIT", "?")
    return {
        "writes_per_s": load["writes_per_s"],
        "p50_ms": load["latency_ms"]["p50"],
        "p95_ms": load["latency_ms"]["p95"],
        "latency_ms_1_3": {k: earlier["scenarios"]["W3"]["latency_ms"][k]["p50"] for k in ("1", "3")},
        "source": f"{Path(path).name}, commit {commit[:12]}",
    }


def run(stack, size: str) -> dict:  # type: ignore[no-untyped-def]
    p = SIZES[size]
    rng = np.random.default_rng(12)
    pool = FactPool(rng)
    result = _latency(stack, p, pool, rng)
    result["ratio_3_1"] = {
        q: ratio(result["latency_ms"]["3"][q], result["latency_ms"]["1"][q]) for q in ("p50", "p95", "p99")
    }
    say(ID, f"3-fact / 1-fact at p50: {result['ratio_3_1']['p50']}")
    result["throughput"] = _throughput(stack, p, rng)
    result["before"] = _baseline()
    result["throughput_vs_before"] = ratio(
        result["throughput"]["writes_per_s"], result["before"]["writes_per_s"]
    )
    say(ID, f"throughput vs before ({result['before']['source']}): {result['throughput_vs_before']}×")
    return result
