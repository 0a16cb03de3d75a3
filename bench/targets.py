"""The targets of issue 5 (and issue 10's soak, K1), each checked against one figure of a results file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import h1_report

Results = dict[str, Any]
Check = tuple[str, str, bool | None]  # (measured, goal, passed); passed None: not measurable


@dataclass(frozen=True)
class Target:
    id: str
    scenario: str
    text: str
    check: Callable[[Results], Check]


def get(results: Any, *path: str) -> Any:
    """``results[p0][p1]...`` or None when any step is missing."""
    value = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _w1(r: Results) -> Check:
    raw, flow_a = get(r, "latency_ms", "raw", "p99"), get(r, "latency_ms", "A", "p99")
    if raw is None or flow_a is None:
        return "n/a", "", None
    allowed = max(0.10 * raw, 2.0)
    measured = f"+{flow_a - raw:.1f} ms (A {flow_a:.1f} vs raw {raw:.1f} ms at p99)"
    return measured, f"≤ +{allowed:.1f} ms", flow_a - raw <= allowed


def _w3_ratio(r: Results) -> Check:
    value = get(r, "ratio_3_1", "p50")
    if value is None:
        return "n/a", "≤ 1.5×", None
    one, three = get(r, "latency_ms", "1", "p50"), get(r, "latency_ms", "3", "p50")
    return f"{value:.2f}× (3 facts {three:.1f} / 1 fact {one:.1f} ms)", "≤ 1.5×", value <= 1.5


def _w3_throughput(r: Results) -> Check:
    value, before = r.get("throughput_vs_before"), r.get("before") or {}
    if value is None:
        return "n/a", "≥ 2.5×", None
    now = get(r, "throughput", "writes_per_s")
    measured = (
        f"{value:.2f}× ({now} vs {before.get('writes_per_s')} writes/s, before: {before.get('source')})"
    )
    return measured, "≥ 2.5×", value >= 2.5


def _w2(phase: str) -> Callable[[Results], Check]:
    def check(r: Results) -> Check:
        share = get(r, "phases", phase, "A", "success_share")
        if share is None:
            return "n/a", "100%", None
        attempts = get(r, "phases", phase, "A", "attempts")
        return f"{share:.0%} of {attempts}", "100%", share >= 1.0

    return check


def _r1(r: Results) -> Check:
    value = get(r, "ratio_cold_L2", "p50")
    if value is None:
        return "n/a", "≥ 20×", None
    cold, l2 = get(r, "latency_ms", "cold", "p50"), get(r, "latency_ms", "L2", "p50")
    return f"{value:.1f}× (cold {cold:.1f} / L2 {l2:.1f} ms)", "≥ 20×", value >= 20


def _r1_floor(r: Results) -> Check:
    one = get(r, "beside_healthz", "1") or {}
    value = one.get("ratio_p50")
    if value is None:
        return "n/a", "≤ 1.5×", None
    l2, floor = get(one, "L2", "latency_ms", "p50"), get(one, "healthz", "latency_ms", "p50")
    sixteen = get(r, "beside_healthz", "16", "L2", "req_s")
    measured = (
        f"{value:.2f}× (L2 {l2:.2f} / healthz {floor:.2f} ms, 1 connection); "
        f"L2 hits/s {get(one, 'L2', 'req_s')} at 1, {sixteen} at 16 connections"
    )
    return measured, "≤ 1.5×", value <= 1.5


def _r2(r: Results) -> Check:
    value = get(r, "with_warming", "hit_ratio")
    if value is None:
        return "n/a", "≥ 95%", None
    return (
        f"{value:.1%} (without warming {get(r, 'without_warming', 'hit_ratio') or 0:.1%})",
        "≥ 95%",
        value >= 0.95,
    )


def _r3(r: Results) -> Check:
    value, threads, errors = r.get("l4_searches_max"), r.get("threads"), r.get("errors", 0)
    if value is None:
        return "n/a", "≤ 2", None
    measured = f"{value} L4 searches for {threads} concurrent misses (worst round)"
    return measured + (f", {errors} errors" if errors else ""), "≤ 2 for 200", value <= 2 and not errors


def _f1(r: Results) -> Check:
    children = str(r.get("default_children"))
    level = get(r, "by_children", children) or {}
    p99s = [get(level, f"{tier}_ms", "p99") for tier in ("L3", "L2")]
    if None in p99s:
        return "n/a", "< 1000 ms", None
    worst = max(p99s)
    timeouts = level.get("timeouts", 0)
    measured = f"{worst:.0f} ms (L3 {p99s[0]:.0f}, L2 {p99s[1]:.0f} ms; {children} children)"
    return (
        measured + (f", {timeouts} timeouts" if timeouts else ""),
        "< 1000 ms",
        worst < 1000 and not timeouts,
    )


def _s1(r: Results) -> Check:
    value = get(r, "levels", "0%", "planner", "users_per_s")
    if value is None:
        return "n/a", "≥ 5,000 users/s", None
    total = get(r, "levels", "0%", "planner", "total")
    return f"{value:,.0f} users/s ({total:,} users)", "≥ 5,000 users/s", value >= 5000


def _s2(r: Results) -> Check:
    value = get(r, "planning", "extrapolated_1m_s")
    if value is None:
        return "n/a", "< 60 s", None
    p = r["planning"]
    return f"{value:.0f} s ({p['users_per_s']:,.0f} users/s over {p['users']:,})", "< 60 s", value < 60


def _k1_writes(r: Results) -> Check:
    lost, accepted = get(r, "convergence", "writes_not_converged"), get(r, "convergence", "writes_accepted")
    if lost is None:
        return "n/a", "0", None
    worst = max((f["converged_s"] for f in r.get("faults", []) if f["converged_s"] is not None), default=None)
    pending = get(r, "convergence", "faults_not_converged") or []
    measured = f"{lost} of {accepted:,} accepted writes; worst fault converged in {worst} s"
    return (
        measured + (f"; {len(pending)} faults never converged" if pending else ""),
        "0",
        lost == 0 and not pending,
    )


def _k1_5xx(r: Results) -> Check:
    outside, during = get(r, "requests", "5xx_outside_pg_outage"), get(r, "requests", "5xx_during_pg_outage")
    if outside is None:
        return "n/a", "0", None
    return f"{outside} ({during} more during PostgreSQL outages)", "0", outside == 0


def _k1_exits(r: Results) -> Check:
    unexpected = get(r, "restarts", "unexpected")
    if unexpected is None:
        return "n/a", "0", None
    stopped = [name for name, running in (r.get("processes_running") or {}).items() if not running]
    per = get(r, "restarts", "per_process") or {}
    done = ", ".join(
        f"{n} {p['restarts']}/{p['expected']}" for n, p in per.items() if p["restarts"] or p["expected"]
    )
    measured = f"{unexpected} (restarts/expected: {done or 'none'})" + (
        f"; not running: {stopped}" if stopped else ""
    )
    return measured, "0", unexpected == 0 and not stopped


TARGETS: list[Target] = [
    Target("W1", "W1", "Flow A adds at most 10% (or 2 ms) to the raw L4 add at p99", _w1),
    Target("W3-ratio", "W3", "A 3-fact message costs at most 1.5× a 1-fact message at p50", _w3_ratio),
    Target(
        "W3-load", "W3", "Write throughput with 4 clients, conversational turns, vs before", _w3_throughput
    ),
    Target("W2-redis", "W2", "Flow A: every write succeeds with Redis down", _w2("Redis stopped")),
    Target("W2-l3", "W2", "Flow A: every write succeeds with L3 down", _w2("L3 stopped")),
    Target("R1", "R1", "An L2 hit over HTTP is at least 20× faster than a cold search at p50", _r1),
    Target(
        "R1-floor",
        "R1",
        "An L2 hit over HTTP costs at most 1.5× the same server's /healthz at p50",
        _r1_floor,
    ),
    Target("R2", "R2", "L2 hit ratio with warming on the Zipf(1.1) stream", _r2),
    Target("R3", "R3", "At most 2 L4 searches for 200 concurrent identical misses", _r3),
    Target("F1", "F1", "Freshness p99 below 1 s with the worker running", _f1),
    Target(
        "H1-search",
        "H1",
        "Hosted: an L2 hit is at least 50× faster than the raw hosted search",
        h1_report.search_target,
    ),
    Target(
        "H1-write", "H1", "Hosted: flow A adds at most 2 ms to the raw add at p50", h1_report.write_target
    ),
    Target("S1", "S1", "A sweep with nothing dirty skips at least 5,000 users/s (planner)", _s1),
    Target("S2", "S2", "A quiet sweep of 1,000,000 users plans in under 60 s", _s2),
    Target("K1-writes", "K1", "Soak: every accepted write converges to L3 after the faults", _k1_writes),
    Target("K1-5xx", "K1", "Soak: no 5xx outside the PostgreSQL outages", _k1_5xx),
    Target("K1-exits", "K1", "Soak: no process exit that a fault did not cause on purpose", _k1_exits),
]


def evaluate(scenarios: Results) -> list[dict[str, Any]]:
    """One row per target: measured value, goal, passed (None when the scenario did not run)."""
    rows = []
    for target in TARGETS:
        figures = scenarios.get(target.scenario)
        measured, goal, passed = ("not run", "", None) if figures is None else target.check(figures)
        rows.append(
            {
                "id": target.id,
                "scenario": target.scenario,
                "target": target.text,
                "goal": goal,
                "measured": measured,
                "passed": passed,
            }
        )
    return rows
