"""What every scenario's report shares: number formats, Markdown tables, the data-set sentence."""

from __future__ import annotations

from typing import Any

Rows = list[tuple[str, str]]


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def latency_rows(stats: dict[str, dict], names: dict[str, str]) -> list[list[Any]]:
    return [
        [
            label,
            stats[key]["n"],
            ms(stats[key]["p50"]),
            ms(stats[key]["p95"]),
            ms(stats[key]["p99"]),
            ms(stats[key]["max"]),
        ]
        for key, label in names.items()
        if key in stats
    ]


LATENCY_HEADER = ["", "n", "p50", "p95", "p99", "max"]


def dataset_line(d: dict | None) -> list[str]:
    """The conversational data set a scenario seeded (``bench/conversations.py``), in one sentence."""
    if not d:
        return []
    per_user = d.get("memories_per_user") or {}
    return [
        f"Data set: {d['users']:,} users × {d['turns_per_user']:,.0f} chat turns ({d['turns']:,} turns, "
        f"{d['facts_stated']:,} facts stated), {per_user.get('mean', 0):,.0f} memories per user in L4 "
        f"(min {per_user.get('min', 0):,}, max {per_user.get('max', 0):,}) after updates, retractions and "
        f"restatements; seeded in {d['seed_s']['total']} s.",
        "",
    ]
