"""What one API key can get out of this machine: the figures behind the default rate limits.

``python -m bench.limits_capacity`` starts the bench stack (gunicorn 2 workers x 4 threads, a Celery
worker with 2 children, limits off), then drives writes (one fact each, spread over many users) and
searches (L2 hits and never-seen queries) from several client threads for a few seconds each, and
prints requests per second and latency at each concurrency.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import threading
import time
from collections.abc import Callable

from bench.api import Reply
from bench.stack import BENCH_VAR, Stack, StackOptions

USERS = 60
DURATION_S = 12.0


def _drive(clients: int, call: Callable[[int, int], Reply]) -> dict[str, float]:
    """Run ``call(client, n)`` from ``clients`` threads for DURATION_S; requests/s, p50, p95, errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + DURATION_S

    def loop(client: int) -> None:
        nonlocal errors
        for n in itertools.count():
            if time.monotonic() >= deadline:
                return
            reply = call(client, n)
            with lock:
                latencies.append(reply.ms)
                errors += reply.status >= 400

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "clients": clients,
        "req_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)], 1),
        "errors": errors,
    }


def main() -> None:
    """Measure and print one line per (kind, concurrency)."""
    with Stack(StackOptions(root=BENCH_VAR / "limits", in_process_mem0=False)) as stack:
        api, token = stack.api, stack.token
        assert api is not None
        users = [f"cap-{token}-{i}" for i in range(USERS)]

        def write(client: int, n: int) -> Reply:
            return api.write(users[(client * 7919 + n) % USERS], f"I love tea number {client}-{n}")

        def hit(client: int, n: int) -> Reply:
            return api.search(users[n % 8], "what do I love")

        def miss(client: int, n: int) -> Reply:
            return api.search(users[n % USERS], f"which tea {client} {n} {token}")

        for kind, call in (("write", write), ("search L2 hit", hit), ("search miss", miss)):
            if kind == "search L2 hit":
                stack.wait_idle()
                for u in users[:8]:
                    api.search(u, "what do I love")
            for clients in (1, 4, 8, 16):
                print(kind, _drive(clients, call), flush=True)
            stack.wait_idle()


if __name__ == "__main__":
    sys.exit(main())
