"""W2's headline rows and report tables (write availability): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, md_table, ms, pct


def headline(r: dict) -> Rows:
    rows = []
    for phase, figures in r["phases"].items():
        shares = ", ".join(f"{flow} {pct(figures[flow]['success_share'])}" for flow in ("A", "B"))
        rows.append((f"201s, {phase}", shares))
    return rows


def details(r: dict) -> list[str]:
    rows = [
        [
            phase,
            flow,
            f"{f['succeeded']}/{f['attempts']}",
            pct(f["success_share"]),
            ", ".join(f"{k}: {v}" for k, v in f["statuses"].items()),
            ", ".join(f"{k}: {v}" for k, v in f["error_codes"].items()) or "–",
            ms(f["latency_ms"]["p50"]),
        ]
        for phase, figures in r["phases"].items()
        for flow, f in figures.items()
    ]
    return md_table(["phase", "flow", "201", "share", "statuses", "errors", "p50"], rows)
