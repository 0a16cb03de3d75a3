"""S1's headline rows and report tables (sweep cost): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, md_table


def headline(r: dict) -> Rows:
    rows = []
    for level, f in r["levels"].items():
        rows.append(
            (
                f"sweep, {level} dirty",
                f"planner {f['planner']['users_per_s']:,.0f} users/s; worker {f['sweep']['wall_s']:.2f} s, "
                f"{f['sweep']['rebuilt']} rebuilt, {f['sweep']['skipped']} skipped",
            )
        )
    return rows


def details(r: dict) -> list[str]:
    rows = [
        [
            level,
            f["planner"]["total"],
            f["planner"]["dirty"],
            f"{f['planner']['seconds_best'] * 1000:.1f} ms",
            f"{f['planner']['users_per_s']:,.0f}",
            f"{f['sweep']['wall_s']:.2f} s",
            f["sweep"]["rebuilt"],
            f"{f['sweep']['rebuilt_per_s']:,.0f}",
            f["sweep"]["skipped"],
            f"{f['sweep']['skipped_per_s']:,.0f}",
        ]
        for level, f in r["levels"].items()
    ]
    header = [
        "dirty",
        "users",
        "dirty users",
        "planner",
        "planner users/s",
        "sweep wall",
        "rebuilt",
        "rebuilt/s",
        "skipped",
        "skipped/s",
    ]
    note = (
        f"{r['users']:,} bench users (plus the other scenarios' users); "
        f"created at {r['create_users_per_s']:,.0f}/s."
    )
    return md_table(header, rows) + [note, ""]
