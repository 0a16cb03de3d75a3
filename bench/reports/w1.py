"""W1's headline rows and report tables (write latency): what its results say."""

from __future__ import annotations

from bench.reports.common import LATENCY_HEADER, Rows, dataset_line, latency_rows, md_table, ms, x
from bench.targets import get

W1_NAMES = {"raw": "raw `mem0.add` (in-process)", "A": "flow A (HTTP, async)", "B": "flow B (HTTP, strict)"}


def headline(r: dict) -> Rows:
    return [
        ("raw / A / B p99", " / ".join(ms(get(r, "latency_ms", k, "p99")) for k in ("raw", "A", "B"))),
        ("A/raw at p50, p99", f"{x(get(r, 'ratio_A_raw', 'p50'))}, {x(get(r, 'ratio_A_raw', 'p99'))}"),
        ("B/A at p50, p99", f"{x(get(r, 'ratio_B_A', 'p50'))}, {x(get(r, 'ratio_B_A', 'p99'))}"),
    ]


def details(r: dict) -> list[str]:
    lines = md_table(LATENCY_HEADER, latency_rows(r["latency_ms"], W1_NAMES))
    ratios = [
        [q, x(r["ratio_A_raw"][q]), ms(r["overhead_A_ms"][q]), x(r["ratio_B_A"][q])]
        for q in ("p50", "p95", "p99")
    ]
    lines += md_table(["", "A / raw", "A − raw", "B / A"], ratios)
    if "facts_per_write" in r:
        lines += [
            "Each write is the user's next chat turn that states a fact: "
            f"{r['facts_per_write']} facts on average.",
            "",
        ]
    return lines + dataset_line(r.get("dataset"))
