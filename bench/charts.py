"""PNG charts of a results file (matplotlib, Agg backend: no display needed), one per scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

from bench.targets import get  # noqa: E402

Figures = dict


def _bars(ax, groups: list[str], series: dict[str, list[float]], ylabel: str) -> None:
    """Grouped bars: one group per ``groups`` item, one bar per series."""
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, [v or 0 for v in values], width, label=label)
        ax.bar_label(bars, labels=[_short(v) for v in values], fontsize=7, padding=2)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _short(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def _target(ax, y: float, label: str) -> None:
    ax.axhline(y, color="crimson", linestyle="--", linewidth=1)
    ax.annotate(
        label,
        (0.99, y),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="bottom",
        fontsize=8,
        color="crimson",
    )


def w1(r: Figures, ax) -> None:
    modes = {"raw": "raw mem0.add", "A": "flow A", "B": "flow B"}
    series = {q: [get(r, "latency_ms", m, q) for m in modes] for q in ("p50", "p95", "p99")}
    _bars(ax, list(modes.values()), series, "latency (ms)")
    raw = get(r, "latency_ms", "raw", "p99")
    if raw:
        _target(ax, raw + max(0.1 * raw, 2.0), "target: flow A p99")
    ax.set_title("W1 write latency")


def w2(r: Figures, ax) -> None:
    phases = list(r["phases"])
    series = {
        f"flow {f}": [100 * (r["phases"][p][f]["success_share"] or 0) for p in phases] for f in ("A", "B")
    }
    _bars(ax, phases, series, "writes answered 201 (%)")
    _target(ax, 100, "target: flow A 100%")
    ax.set_ylim(0, 115)
    ax.set_title("W2 write availability")


def r1(r: Figures, ax) -> None:
    tiers = {"L2": "L2 hit", "L1+L4": "L1 + L4", "cold": "cold"}
    series = {q: [get(r, "latency_ms", t, q) for t in tiers] for q in ("p50", "p99")}
    _bars(ax, list(tiers.values()), series, "latency (ms)")
    ax.set_title(f"R1 search latency per tier (cold/L2 at p50: {get(r, 'ratio_cold_L2', 'p50')}×)")


def r2(r: Figures, ax) -> None:
    names = ["without_warming", "with_warming"]
    values = [100 * (get(r, n, "hit_ratio") or 0) for n in names]
    bars = ax.bar([n.replace("_", " ") for n in names], values, color=["#999999", "#2a7ab0"])
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8)
    _target(ax, 95, "target 95%")
    ax.set_ylim(0, 105)
    ax.set_ylabel("L2 hit ratio (%)")
    ax.set_title(f"R2 hit ratio, Zipf(1.1) over {r.get('users')} users")


def r3(r: Figures, ax) -> None:
    values = [x["l4_searches"] for x in r["rounds"]]
    bars = ax.bar([f"round {i + 1}" for i in range(len(values))], values, color="#2a7ab0")
    ax.bar_label(bars, fontsize=8)
    _target(ax, 2, "target ≤ 2")
    ax.set_ylim(0, max([3, *values]) + 1)
    ax.set_ylabel("L4 searches")
    ax.set_title(f"R3 stampede: {r['threads']} concurrent identical misses")


def f1(r: Figures, ax) -> None:
    levels = sorted(r["by_children"])
    series = {
        f"{tier} {q}": [get(r, "by_children", c, f"{tier}_ms", q) for c in levels]
        for tier in ("L3", "L2")
        for q in ("p50", "p99")
    }
    _bars(ax, [f"{c} worker child(ren)" for c in levels], series, "write 201 → tier reflects it (ms)")
    _target(ax, 1000, "target p99 < 1 s")
    ax.set_title("F1 freshness")


def s1(r: Figures, ax) -> None:
    levels = list(r["levels"])
    series = {
        "planner users/s": [get(r, "levels", lv, "planner", "users_per_s") for lv in levels],
        "sweep users/s (worker)": [get(r, "levels", lv, "sweep", "users_per_s") for lv in levels],
    }
    _bars(ax, [f"{lv} dirty" for lv in levels], series, "users per second (log scale)")
    ax.set_yscale("log")
    _target(ax, 5000, "target: planner ≥ 5,000/s at 0%")
    ax.set_title(f"S1 sweep over {r['users']:,} users")


def m1(r: Figures, ax) -> None:
    names = list(r["processes"])
    series = {
        "peak RSS (sum)": [r["processes"][n]["peak_rss_mb"] for n in names],
        "PSS at end": [r["processes"][n]["pss_mb"] for n in names],
    }
    _bars(ax, names, series, "MB")
    ax.set_title("M1 memory of the process trees")


CHARTS: dict[str, Callable[[Figures, object], None]] = {
    "W1": w1,
    "W2": w2,
    "R1": r1,
    "R2": r2,
    "R3": r3,
    "F1": f1,
    "S1": s1,
    "M1": m1,
}


def draw(scenarios: dict[str, Figures], out_dir: Path) -> dict[str, Path]:
    """One PNG per scenario with figures; returns scenario id -> path. A chart that fails is skipped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for scenario_id, figures in scenarios.items():
        if scenario_id not in CHARTS:
            continue
        fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
        try:
            CHARTS[scenario_id](figures, ax)
            fig.tight_layout()
            path = out_dir / f"{scenario_id.lower()}.png"
            fig.savefig(path)
            paths[scenario_id] = path
        except (KeyError, TypeError, ValueError) as exc:
            print(f"chart {scenario_id} skipped: {type(exc).__name__}: {exc}")
        finally:
            plt.close(fig)
    return paths
