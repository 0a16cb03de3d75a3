"""K1 soak: mixed load on `make run`'s process tree with a random real fault at a fixed interval.

Runs `memcache dev run` (supervisor, gunicorn ×2, prefork Celery worker ×2, RedBeat beat, Flower)
through `ProcessTree`, with its own Redis (cache and broker on one Redis, as `make run`), its own
PostgreSQL (L3 and Mem0's table), ports and var directory, default settings except the sweep
interval and rate limits high enough for the load. Client threads send writes, searches and
favourites reads for many users at a bounded rate while, every interval, a fault drawn from a
seeded shuffle of the six faults of issue 10 is injected with real signals. After each fault the
probe times how long until every write accepted before the fault's end is served from L3. At the
end the load stops and every user must converge: favourites from L3 holding every accepted write,
then a repeated search served from L2. Loopback only; bounded in requests and time.
"""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bench import faults
from bench.output import say
from bench.soak import Answer, Convergence, FaultRecord, Load, l3_favourites
from bench.stack import StackOptions
from bench.stats import summary

if TYPE_CHECKING:
    from memcache_platform.dev.process_tree import ProcessTree

ID = "K1"
TITLE = "Soak: mixed load on the make-run process tree with a random fault at a fixed interval"
OWN_STACK = True
HARNESS = False  # minutes long and a process tree of its own: never part of `make test`
SEED = 10
SWEEP_INTERVAL_S = 30
RATE_LIMIT = "100000/minute"  # per key; the defaults are being redesigned (issue 12)
WEIGHTS = (0.4, 0.4, 0.2)  # write, search, favorites
FAULT_WINDOW_GRACE_S = 5.0  # a failed answer this soon after a fault's end is put down to that fault
SIZES = {
    "tiny": {"duration_s": 30, "fault_every_s": 10, "users": 5, "threads": 2, "rps": 4},
    "quick": {"duration_s": 120, "fault_every_s": 20, "users": 20, "threads": 4, "rps": 6},
    "full": {"duration_s": 600, "fault_every_s": 30, "users": 50, "threads": 4, "rps": 6},
}


def _schedule(count: int, rng: random.Random) -> list[str]:
    """``count`` faults: seeded shuffles of the whole list, one after another, so each kind recurs."""
    names: list[str] = []
    while len(names) < count:
        bag = list(faults.FAULTS)
        rng.shuffle(bag)
        names += bag
    return names[:count]


def run(options: StackOptions, size: str) -> dict[str, Any]:
    p = SIZES[size]
    var_dir = options.root.parent / f"{options.root.name}-k1"
    shutil.rmtree(var_dir, ignore_errors=True)
    settings = {
        "MEMCACHE_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
        "MEMCACHE_RATE_LIMIT_WRITES": RATE_LIMIT,
        "MEMCACHE_RATE_LIMIT_SEARCHES": RATE_LIMIT,
    }
    from memcache_platform.dev.process_tree import ProcessTree

    tree = ProcessTree(var_dir, settings=settings)
    say(ID, f"starting the process tree under {var_dir} ...")
    t0 = time.monotonic()
    tree.start()
    say(ID, f"tree ready in {time.monotonic() - t0:.0f} s: {sorted(tree.processes())}")
    result: dict[str, Any] = {"size": p, "seed": SEED, "settings": settings, "log": str(tree.log_path)}
    try:
        result |= _soak(tree, p)
    finally:
        result["exit_status"] = tree.stop()
    return result


def _soak(tree: ProcessTree, p: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(SEED)
    users = [f"k1-user-{i}" for i in range(p["users"])]
    restarts_at_start = tree.restarts()
    load = Load(tree, users, p["threads"], p["rps"], WEIGHTS, SEED).start()
    probe = Convergence(tree).start()
    started = time.monotonic()
    for n, name in enumerate(_schedule(int(p["duration_s"] // p["fault_every_s"]), rng), start=1):
        # Mid-interval (15 s, 45 s, ...): the last fault still has load after it.
        _sleep_until(started + (n - 0.5) * p["fault_every_s"], started + p["duration_s"])
        if time.monotonic() >= started + p["duration_s"]:
            break
        before, fault_start = tree.restarts(), time.monotonic()
        error = _inject(name, tree)
        ended = time.monotonic()
        probe.add(FaultRecord(name, fault_start, ended, load.accepted_until(ended), before))
        say(ID, f"{ended - started:5.0f} s fault {n}: {name} ({ended - fault_start:.1f} s){error or ''}")
    _sleep_until(started + p["duration_s"], started + p["duration_s"])
    load.stop()
    stopped = time.monotonic()
    say(ID, f"load stopped after {stopped - started:.0f} s, {len(load.answers)} requests; converging ...")
    final = _converge(tree, load, probe, timeout_s=2 * SWEEP_INTERVAL_S + 30)
    probe.stop()
    restarts_at_end = tree.restarts()
    return {
        "load_s": round(stopped - started, 1),
        "requests": _requests(load.answers, probe.faults, started),
        "faults": [_fault_row(f, started, tree, probe.faults) for f in probe.faults],
        "restarts": _restarts(restarts_at_start, restarts_at_end, probe.faults),
        "processes_running": {n: bool(s["running"]) for n, s in tree.processes().items()},
        "convergence": final | {"probe_requests": probe.probes},
    }


def _sleep_until(moment: float, cap: float) -> None:
    time.sleep(max(0.0, min(moment, cap) - time.monotonic()))


def _inject(name: str, tree: ProcessTree) -> str | None:
    try:
        faults.FAULTS[name](tree)
    except Exception as exc:  # noqa: BLE001 - a fault that could not be injected is reported, not fatal
        return f" — not injected: {type(exc).__name__}: {exc}"
    return None


def _converge(tree: ProcessTree, load: Load, probe: Convergence, timeout_s: float) -> dict[str, Any]:
    """Wait for every pending fault, then check every user afresh: L3 holds every write, L2 serves."""
    deadline = time.monotonic() + timeout_s
    expected = load.accepted_until(time.monotonic())
    stopped = time.monotonic()
    missing: dict[str, set[str]] = {}
    while True:
        if not probe.pending():
            missing = {}
            for user, items in expected.items():
                got = l3_favourites(tree, user)
                if got is None or not items <= got:
                    missing[user] = items - (got or set())
            if not missing:
                break
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    l2_misses = [] if missing else _l2_misses(tree, load)
    return {
        "after_load_s": round(time.monotonic() - stopped, 1),
        "timeout_s": timeout_s,
        "writes_accepted": sum(len(items) for items in expected.values()),
        "writes_not_converged": sum(len(items) for items in missing.values()) if missing else 0,
        "users_not_converged": sorted(missing),
        "examples_not_converged": {u: sorted(items)[:5] for u, items in list(missing.items())[:5]},
        "faults_not_converged": [f.name for f in probe.pending()],
        "l2_users_not_served": l2_misses,
    }


def _l2_misses(tree: ProcessTree, load: Load) -> list[str]:
    """Users whose newest write is not found by a search, or whose repeated search is not an L2 hit."""
    misses = []
    for user, rows in sorted(load.accepted.items()):
        last = rows[-1][1]
        answers = [tree.call("GET", f"/v1/users/{user}/search", params={"q": last, "limit": 3}) for _ in "ab"]
        found = [r["memory"].split("Likes ", 1)[-1] for r in answers[0].json().get("results", [])]
        if last not in found or answers[1].json().get("tier") != "L2":
            misses.append(user)
    return misses


def _window(fault: FaultRecord, answer: Answer) -> bool:
    return answer.sent <= fault.ended + FAULT_WINDOW_GRACE_S and answer.sent + answer.seconds >= fault.started


def _requests(answers: list[Answer], fault_list: list[FaultRecord], started: float) -> dict[str, Any]:
    """Answers by kind and status; 5xx and no-answer split by the fault they happened during."""
    pg = [f for f in fault_list if f.name == faults.PG_OUTAGE]
    by_kind: dict[str, Any] = {}
    for kind in sorted({a.kind for a in answers}):
        mine = [a for a in answers if a.kind == kind]
        by_kind[kind] = {
            "sent": len(mine),
            "statuses": dict(sorted(Counter(str(a.status) for a in mine).items())),
            "latency_ms": summary([a.seconds * 1000 for a in mine if a.status]),
        }
    failed = [a for a in answers if a.status == 0 or a.status >= 500]
    # Mem0's table is in that PostgreSQL: 5xx while it is down (strictly, no grace) are expected.
    in_pg = [a for a in failed if a.status and any(_window(f, a) and a.sent <= f.ended for f in pg)]
    other_5xx = [a for a in failed if a.status and a not in in_pg]
    return {
        "sent": len(answers),
        "answered": sum(1 for a in answers if a.status),
        "no_answer": sum(1 for a in answers if not a.status),
        "by_kind": by_kind,
        "5xx_by_code": dict(Counter(f"{a.status} {a.code}" for a in failed if a.status)),
        "5xx_during_pg_outage": len(in_pg),
        "5xx_outside_pg_outage": len(other_5xx),
        "failed_examples": [_example(a, fault_list, started) for a in (other_5xx + in_pg)[:15]],
        "no_answer_examples": [_example(a, fault_list, started) for a in failed if not a.status][:15],
        "slowest": [_example(a, fault_list, started) for a in sorted(answers, key=lambda a: -a.seconds)[:10]],
    }


def _example(answer: Answer, fault_list: list[FaultRecord], started: float) -> dict[str, Any]:
    during = [f.name for f in fault_list if _window(f, answer)]
    return asdict(answer) | {"sent": round(answer.sent - started, 2), "during": during}


def _fault_row(fault: FaultRecord, started: float, tree: ProcessTree, fault_list: list) -> dict[str, Any]:
    later = [f for f in fault_list if f.started > fault.started]
    after = later[0].restarts_before if later else tree.restarts()
    return {
        "at_s": round(fault.started - started, 1),
        "name": fault.name,
        "duration_s": round(fault.ended - fault.started, 1),
        "converged_s": fault.converged_s,
        "writes_expected": sum(len(v) for v in fault.expected.values()),
        "restarts": {
            n: after.get(n, 0) - fault.restarts_before.get(n, 0)
            for n in after
            if after.get(n, 0) != fault.restarts_before.get(n, 0)
        },
    }


def _restarts(start: dict[str, int], end: dict[str, int], fault_list: list[FaultRecord]) -> dict[str, Any]:
    """Supervisor restarts per Procfile process against the restarts the faults caused on purpose."""
    expected = Counter(
        faults.EXPECTED_RESTART[f.name] for f in fault_list if f.name in faults.EXPECTED_RESTART
    )
    per_process = {
        name: {"restarts": end.get(name, 0) - start.get(name, 0), "expected": expected.get(name, 0)}
        for name in sorted(set(start) | set(end))
    }
    unexpected = sum(max(0, p["restarts"] - p["expected"]) for p in per_process.values())
    return {
        "per_process": per_process,
        "unexpected": unexpected,
        "faults": dict(Counter(f.name for f in fault_list)),
    }
