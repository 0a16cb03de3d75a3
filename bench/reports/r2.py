"""R2's headline rows and report tables (hit ratio): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, dataset_line, md_table, ms, pct
from bench.targets import get


def headline(r: dict) -> Rows:
    return [
        (
            "L2 hit ratio without, with warming",
            f"{pct(get(r, 'without_warming', 'hit_ratio'))}, {pct(get(r, 'with_warming', 'hit_ratio'))}",
        )
    ]


def details(r: dict) -> list[str]:
    rows = []
    for name in ("without_warming", "with_warming"):
        f = r.get(name)
        if f:
            rows.append(
                [
                    name.replace("_", " "),
                    f["searches"],
                    f["writes"],
                    f["distinct_users"],
                    f["tiers"].get("L2", 0),
                    f["tiers"].get("L4", 0),
                    pct(f["hit_ratio"]),
                    ms(f["search_latency_ms"]["p50"]),
                    ms(f["warm_wait_ms"]["p50"]),
                ]
            )
    header = [
        "",
        "searches",
        "writes",
        "users hit",
        "L2",
        "L4",
        "L2 hit ratio",
        "search p50",
        "warm wait p50",
    ]
    note = (
        f"{r['users']} users, Zipf(s={r['zipf_s']}) over users and over each user's questions, "
        f"{r['write_share']:.0%} of events are writes (the user's next chat turn)."
    )
    return md_table(header, rows) + [note, ""] + dataset_line(r.get("dataset"))
