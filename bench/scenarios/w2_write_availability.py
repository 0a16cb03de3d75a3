"""W2 write availability: the share of writes answered 201, per flow, while Redis or L3 is stopped.

Runs on a stack of its own, always embedded, because it stops servers: a Redis, one PostgreSQL
for L3 (``MEMCACHE_DATABASE_URL``) and a separate one for Mem0 (``MEMCACHE_MEM0_DATABASE_URL``),
so stopping L3 leaves L4 up; gunicorn and a worker as usual. Three phases (all up, Redis stopped,
L3's PostgreSQL stopped), each with writes of both flows interleaved; what is stopped is started
again at the end of its phase, and the next phase waits for ``/readyz`` to see it back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from bench.data import DataGen
from bench.output import say
from bench.processes import wait_until
from bench.stack import Stack, StackOptions
from bench.stats import summary

ID = "W2"
TITLE = "Write availability with Redis or L3 stopped"
OWN_STACK = True
SIZES = {"tiny": {"writes": 3}, "quick": {"writes": 20}, "full": {"writes": 100}}
PHASES = (("all up", None, None), ("Redis stopped", "redis", "redis"), ("L3 stopped", "l3_pg", "l3_database"))


def _options(main: StackOptions) -> StackOptions:
    root = main.root.parent / f"{main.root.name}-w2"
    return replace(
        main,
        root=root,
        redis_url=None,
        database_url=None,
        mem0_database_url=None,
        separate_l4=True,
        web_workers=1,
        worker_concurrency=1,
        in_process_mem0=False,
    )


def _phase(stack: Stack, data: DataGen, rng: np.random.Generator, writes: int, user: str) -> dict:
    outcomes: dict[str, list[tuple[int, float, str | None]]] = {"A": [], "B": []}
    for _ in range(writes):
        text, _ = data.memory()
        for flow in rng.permutation(["A", "B"]):
            reply = stack.api.write(user, text, mode="strict" if flow == "B" else None)
            code = reply.body.get("error", {}).get("code") if reply.status != 201 else None
            outcomes[str(flow)].append((reply.status, reply.ms, code))
    result = {}
    for flow, rows in outcomes.items():
        ok = [ms for status, ms, _ in rows if status == 201]
        result[flow] = {
            "attempts": len(rows),
            "succeeded": len(ok),
            "success_share": round(len(ok) / len(rows), 4) if rows else None,
            "statuses": dict(Counter(str(status) for status, _, _ in rows)),
            "error_codes": dict(Counter(code for _, _, code in rows if code)),
            "latency_ms": summary([ms for _, ms, _ in rows]),
        }
    return result


def run(options: StackOptions, size: str) -> dict:
    p = SIZES[size]
    result: dict = {"writes_per_flow": p["writes"], "phases": {}}
    with Stack(_options(options)) as stack:
        result["stack"] = stack.describe()
        data, rng = DataGen(seed=71, token=stack.token), np.random.default_rng(71)
        for name, server_attr, check in PHASES:
            server = getattr(stack, server_attr) if server_attr else None
            if server is not None:
                server.stop()
            try:
                figures = _phase(stack, data, rng, p["writes"], f"{stack.token}-w2-{len(result['phases'])}")
            finally:
                if server is not None:
                    server.start()
            if check:
                wait_until(
                    lambda c=check: stack.api.readyz().get("checks", {}).get(c, {}).get("ok"),
                    60,
                    f"{check} back in /readyz",
                    0.5,
                )
            result["phases"][name] = figures
            for flow in ("A", "B"):
                f = figures[flow]
                say(
                    ID,
                    f"{name:<14} flow {flow}: {f['succeeded']}/{f['attempts']} answered 201 "
                    f"({f['success_share']:.0%}); statuses {f['statuses']} {f['error_codes'] or ''}; "
                    f"p50 {f['latency_ms']['p50']} ms",
                )
    return result
