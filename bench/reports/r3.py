"""R3's headline rows and report tables (stampede): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, md_table, ms


def headline(r: dict) -> Rows:
    return [
        (
            f"L4 searches for {r['threads']} concurrent misses",
            f"max {r['l4_searches_max']}, mean {r['l4_searches_mean']}",
        )
    ]


def details(r: dict) -> list[str]:
    rows = [
        [
            i + 1,
            x["l4_searches"],
            ", ".join(f"{k}: {v}" for k, v in x["tiers"].items()),
            x["errors"],
            ms(x["latency_ms"]["p50"]),
            ms(x["latency_ms"]["p99"]),
        ]
        for i, x in enumerate(r["rounds"])
    ]
    return md_table(["round", "L4 searches", "tiers", "errors", "p50", "p99"], rows)
