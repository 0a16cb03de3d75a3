"""H1's headline, report table and targets (``bench/scenarios/h1_hosted.py``)."""

from __future__ import annotations

from typing import Any

Check = tuple[str, str, bool | None]  # as bench/targets.py, which imports this module


def get(results: Any, *path: str) -> Any:
    """``results[p0][p1]...`` or None when any step is missing."""
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def headline(r: dict) -> list[tuple[str, str]]:
    s, w, b = r["search"], r["write"], r["bill"]
    return [
        ("hosted search raw vs L2 hit, p50", f"{_ms(s['raw']['p50'])} vs {_ms(s['l2_hit']['p50'])}"),
        ("flow A over raw add, p50", f"{w['A_compat_over_raw_p50_ms']} ms"),
        ("write → search finds it, p50 / p99", " / ".join(_ms(v) for v in _fresh(r))),
        ("hosted requests per 1,000 searches", f"{b['b_requests_per_1000_searches']} (raw 1000)"),
    ]


def _fresh(r: dict) -> tuple[float | None, float | None]:
    f = r["freshness"]["write_to_search_ms"]
    return f["p50"], f["p99"]


def details(r: dict) -> list[str]:
    names = {
        ("search", "raw"): "search: raw MemoryClient.search (hosted, 150 ms)",
        ("search", "cold"): "search: platform, cold (L2 miss, one hosted search)",
        ("search", "l2_hit"): "search: platform, L2 hit",
        ("write", "raw"): "write: raw MemoryClient.add(infer=False)",
        ("write", "A_compat"): "write: flow A, the same MemoryClient call to the platform",
        ("write", "A_v1"): "write: flow A, v1 (rules extraction: + 1 hosted get_all)",
        ("write", "B_v1"): "write: flow B, v1 strict (waits for the event, rebuilds inline)",
        ("freshness", "write_to_search_ms"): "freshness: v1 write → the user's search finds it",
    }
    rows = []
    for (part, key), label in names.items():
        stats = r[part][key]
        rows.append(
            f"| {label} | {stats['n']} | {_ms(stats['p50'])} | {_ms(stats['p95'])} | {_ms(stats['p99'])} |"
        )
    b = r["bill"]
    return [
        f"Chained stand-in, {r['latency_ms']:.0f} ms added to every request reaching the hosted side.",
        "",
        "| | n | p50 | p95 | p99 |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Zipf(1.1) stream with warming: {b['searches']} searches and {b['writes']} writes, "
        f"tiers {b['tiers']}; "
        f"{b['b_requests']} requests reached the hosted side (searches, adds, event polls, rebuilds): "
        f"{b['b_requests_per_1000_searches']} per 1,000 searches, against 1,000 for the raw client. "
        f"Write statuses: {r['write']['statuses']}; freshness timeouts: {r['freshness']['timeouts']}.",
        "",
    ]


def search_target(r: dict) -> Check:
    value = get(r, "search", "l2_hit_vs_raw_p50")
    if value is None:
        return "n/a", "≥ 50×", None
    raw, hit = get(r, "search", "raw", "p50"), get(r, "search", "l2_hit", "p50")
    return f"{value:.1f}× (raw {raw:.1f} vs L2 hit {hit:.1f} ms)", "≥ 50×", value >= 50


def write_target(r: dict) -> Check:
    over = get(r, "write", "A_compat_over_raw_p50_ms")
    if over is None:
        return "n/a", "≤ +2 ms", None
    raw, a = get(r, "write", "raw", "p50"), get(r, "write", "A_compat", "p50")
    return f"+{over:.1f} ms (A {a:.1f} vs raw {raw:.1f} ms)", "≤ +2 ms", over <= 2
