"""Routes measured side by side in one run: alternating blocks from the same client connections.

A route's latency means little without the floor of the same server and client (``/healthz``
through gunicorn, Flask and ``requests``). Each kind runs in blocks, A B A B …, so a drift of the
shared machine hits every kind alike; every block uses the same ``connections`` threads, each with
its own keep-alive session (``Api`` keeps one per thread), opened by a warm-up block not counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench.api import Reply
from bench.stats import summary

Call = Callable[[int, int], Reply]  # (connection, request number) -> the reply


def alternate(calls: dict[str, Call], *, connections: int, blocks: int, per_block: int) -> dict[str, dict]:
    """Per kind: latency summary, requests/s over its blocks' wall time, errors and the replies' bodies."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    walls = dict.fromkeys(calls, 0.0)
    errors = dict.fromkeys(calls, 0)
    bodies: dict[str, list[dict]] = {name: [] for name in calls}
    per_connection = max(1, per_block // connections)
    with ThreadPoolExecutor(connections) as pool:

        def block(call: Call) -> tuple[list[Reply], float]:
            # The barrier puts each task on its own thread, so the same sessions serve every block.
            barrier = threading.Barrier(connections + 1)

            def one(connection: int) -> list[Reply]:
                barrier.wait()
                return [call(connection, n) for n in range(per_connection)]

            futures = [pool.submit(one, c) for c in range(connections)]
            barrier.wait()
            started = time.perf_counter()
            replies = [reply for f in futures for reply in f.result()]
            return replies, time.perf_counter() - started

        for call in calls.values():
            block(call)  # warm-up: sessions open, caches and code paths warm
        for _ in range(blocks):
            for name, call in calls.items():
                replies, wall = block(call)
                samples[name] += [r.ms for r in replies]
                walls[name] += wall
                errors[name] += sum(r.status != 200 for r in replies)
                bodies[name] += [r.body for r in replies]
    return {
        name: {
            "latency_ms": summary(samples[name]),
            "req_s": round(len(samples[name]) / walls[name], 1) if walls[name] else None,
            "errors": errors[name],
            "bodies": bodies[name],
        }
        for name in calls
    }
