"""The scenarios, in the order a full run takes them.

Each module has ``ID``, ``TITLE``, ``SIZES`` (``tiny`` for the test suite, ``quick``, ``full``) and
``run(stack, size) -> dict`` that prints its figures as it goes and returns them. Scenarios with
``OWN_STACK = True`` start their own stack: they get the main ``StackOptions`` instead of a running
``Stack``, and run after the main stack is torn down. Scenarios with ``HARNESS = False`` (the soak) are left
out of the test suite's harness run.
"""

from __future__ import annotations

from types import ModuleType

from bench.scenarios import (
    c1_cluster,
    f1_freshness,
    h1_hosted,
    k1_soak,
    m1_memory,
    r1_read_latency,
    r2_hit_ratio,
    r3_stampede,
    s1_sweep_cost,
    s2_million_users,
    w1_write_latency,
    w2_write_availability,
    w3_batched_writes,
)

ORDER: list[ModuleType] = [
    w1_write_latency,
    w3_batched_writes,
    r1_read_latency,
    r3_stampede,
    r2_hit_ratio,
    f1_freshness,
    h1_hosted,
    s1_sweep_cost,
    s2_million_users,
    c1_cluster,
    m1_memory,
    w2_write_availability,
    k1_soak,
]
SCENARIOS: dict[str, ModuleType] = {module.ID: module for module in ORDER}
SIZES = ("tiny", "quick", "full")


def own_stack(module: ModuleType) -> bool:
    return bool(getattr(module, "OWN_STACK", False))


def in_harness(module: ModuleType) -> bool:
    """Whether ``make test``'s bench harness runs this scenario (at its tiny size)."""
    return bool(getattr(module, "HARNESS", True))
