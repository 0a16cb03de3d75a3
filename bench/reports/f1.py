"""F1's headline rows and report tables (freshness): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, md_table, ms


def headline(r: dict) -> Rows:
    rows = []
    for children, f in r["by_children"].items():
        rows.append(
            (
                f"freshness p50/p99, {children} child(ren)",
                f"L3 {ms(f['L3_ms']['p50'])}/{ms(f['L3_ms']['p99'])}, "
                f"L2 {ms(f['L2_ms']['p50'])}/{ms(f['L2_ms']['p99'])}",
            )
        )
    return rows


def details(r: dict) -> list[str]:
    rows = [
        [
            children,
            f["writes"],
            tier,
            ms(f[f"{tier}_ms"]["p50"]),
            ms(f[f"{tier}_ms"]["p95"]),
            ms(f[f"{tier}_ms"]["p99"]),
            ms(f[f"{tier}_ms"]["max"]),
            f["timeouts"],
        ]
        for children, f in sorted(r["by_children"].items())
        for tier in ("L3", "L2")
    ]
    note = f"{r['writers']} concurrent writers, polled every {r['poll_ms']} ms."
    return md_table(["worker children", "writes", "tier", "p50", "p95", "p99", "max", "timeouts"], rows) + [
        note,
        "",
    ]
