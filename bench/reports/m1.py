"""M1's headline rows and report tables (memory): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, md_table


def headline(r: dict) -> Rows:
    return [
        (
            f"{name} peak RSS (sum over processes)",
            f"{f['peak_rss_mb']:,.0f} MB ({f['processes_at_peak']} processes)",
        )
        for name, f in r["processes"].items()
    ]


def details(r: dict) -> list[str]:
    rows = [
        [
            name,
            f"{f['peak_rss_mb']:,.0f} MB",
            f["processes_at_peak"],
            f"{f['rss_now_mb']:,.0f} MB",
            "n/a" if f["pss_mb"] is None else f"{f['pss_mb']:,.0f} MB",
            ", ".join(map(str, f["per_process_rss_mb"])),
        ]
        for name, f in r["processes"].items()
    ]
    lines = md_table(
        ["process tree", "peak RSS", "processes", "RSS at end", "PSS at end", "RSS per process (MB)"], rows
    )
    per_process = [
        [
            p["role"],
            p["pid"],
            f"{p['peak_rss_mb']:,.0f} MB",
            f"{p['rss_now_mb']:,.0f} MB",
            f"{p['pss_now_mb']:,.0f} MB",
        ]
        for p in r.get("per_process", [])
    ]
    if per_process:
        lines += md_table(["process", "pid", "peak RSS", "RSS at end", "PSS at end"], per_process)
    return lines
