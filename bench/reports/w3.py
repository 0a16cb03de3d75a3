"""W3's headline rows and report tables (batched writes): what its results say."""

from __future__ import annotations

from bench.reports.common import LATENCY_HEADER, Rows, dataset_line, latency_rows, md_table, ms, x
from bench.targets import get

W3_NAMES = {"1": "1-fact message (HTTP)", "3": "3-fact message (HTTP)"}


def headline(r: dict) -> Rows:
    load, before = r["throughput"], r["before"]
    return [
        ("3-fact / 1-fact at p50", f"{x(get(r, 'ratio_3_1', 'p50'))}"),
        (
            f"writes/s, {load['clients']} clients (before)",
            f"{load['writes_per_s']} ({before['writes_per_s']}, {x(r.get('throughput_vs_before'))})",
        ),
    ]


def details(r: dict) -> list[str]:
    lines = md_table(LATENCY_HEADER, latency_rows(r["latency_ms"], W3_NAMES))
    lines += md_table(["", "3-fact / 1-fact"], [[q, x(r["ratio_3_1"][q])] for q in ("p50", "p95", "p99")])
    load, before = r["throughput"], r["before"]
    if "latency_ms_1_3" in before:  # the same scenario measured on the commit before batched writes
        one, three = before["latency_ms_1_3"]["1"], before["latency_ms_1_3"]["3"]
        lines += [
            f"Before ({before['source']}): 1 fact {ms(one)}, 3 facts {ms(three)} at p50, "
            f"{x(three / one if one else None)}.",
            "",
        ]
    rows = [
        [
            "now",
            load["writes_per_s"],
            load["facts_per_s"],
            ms(load["latency_ms"]["p50"]),
            ms(load["latency_ms"]["p95"]),
        ],
        [
            f"before ({before['source']})",
            before["writes_per_s"],
            "–",
            ms(before["p50_ms"]),
            ms(before["p95_ms"]),
        ],
    ]
    lines += md_table(["throughput", "writes/s", "facts/s", "p50", "p95"], rows)
    events = ", ".join(f"{n:,} {event}" for event, n in sorted(load.get("events", {}).items()))
    return (
        lines
        + [
            f"{load['clients']} clients, {load['writes']} turns of {load['facts_per_write']} facts on "
            f"average for {load['users']} users, in {load['elapsed_s']} s"
            + (f"; decisions: {events}." if events else "."),
            "",
        ]
        + dataset_line(load.get("dataset"))
    )
