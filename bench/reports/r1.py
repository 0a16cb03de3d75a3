"""R1's headline rows and report tables (read latency): what its results say."""

from __future__ import annotations

from bench.reports.common import LATENCY_HEADER, Rows, latency_rows, md_table, ms, x
from bench.targets import get

R1_NAMES = {"L2": "L2 hit", "L1+L4": "L1 hit + L4 search (L2 stale)", "cold": "cold (never-seen query)"}


def headline(r: dict) -> Rows:
    return [
        (
            "L2 / L1+L4 / cold p50",
            " / ".join(ms(get(r, "latency_ms", k, "p50")) for k in ("L2", "L1+L4", "cold")),
        ),
        (
            "cold/L2 at p50, p99",
            f"{x(get(r, 'ratio_cold_L2', 'p50'))}, {x(get(r, 'ratio_cold_L2', 'p99'))}",
        ),
        (
            "L2/healthz p50 at 1, 16 connections",
            ", ".join(x(get(r, "beside_healthz", c, "ratio_p50")) for c in ("1", "16")),
        ),
    ]


def details(r: dict) -> list[str]:
    lines = md_table(LATENCY_HEADER, latency_rows(r["latency_ms"], R1_NAMES))
    unexpected = sum(r["unexpected_tier"].values())
    lines += [f"Answers from another tier than expected: {unexpected}.", ""]
    beside = r.get("beside_healthz") or {}
    rows = [
        [
            f"{name} × {c}",
            one[name]["latency_ms"]["n"],
            ms(one[name]["latency_ms"]["p50"]),
            ms(one[name]["latency_ms"]["p99"]),
            one[name]["req_s"],
            x(one["ratio_p50"]) if name == "L2" else "",
        ]
        for c, one in beside.items()
        for name in ("healthz", "L2")
    ]
    if rows:
        lines += ["L2 hit beside `/healthz` (same server and client, alternating blocks):", ""]
        lines += md_table(["route × connections", "n", "p50", "p99", "req/s", "L2/healthz p50"], rows)
        lines += [f"Hits answered by another tier: {sum(one['not_l2'] for one in beside.values())}.", ""]
    return lines
