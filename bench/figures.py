"""What each scenario's results say, as headline rows (the final table) and Markdown detail tables.

Over 400 lines on purpose: one pair of small functions (headline rows, detail table) per scenario, eleven
scenarios, each independent of the others; a module per scenario would scatter the report's wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import h1_report
from bench.scenarios import c1_cluster
from bench.targets import get

Rows = list[tuple[str, str]]


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _latency_rows(stats: dict[str, dict], names: dict[str, str]) -> list[list[Any]]:
    return [
        [
            label,
            stats[key]["n"],
            _ms(stats[key]["p50"]),
            _ms(stats[key]["p95"]),
            _ms(stats[key]["p99"]),
            _ms(stats[key]["max"]),
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


# --- W1 ---------------------------------------------------------------------------------------------
W1_NAMES = {"raw": "raw `mem0.add` (in-process)", "A": "flow A (HTTP, async)", "B": "flow B (HTTP, strict)"}


def w1_headline(r: dict) -> Rows:
    return [
        ("raw / A / B p99", " / ".join(_ms(get(r, "latency_ms", k, "p99")) for k in ("raw", "A", "B"))),
        ("A/raw at p50, p99", f"{_x(get(r, 'ratio_A_raw', 'p50'))}, {_x(get(r, 'ratio_A_raw', 'p99'))}"),
        ("B/A at p50, p99", f"{_x(get(r, 'ratio_B_A', 'p50'))}, {_x(get(r, 'ratio_B_A', 'p99'))}"),
    ]


def w1_details(r: dict) -> list[str]:
    lines = _md_table(LATENCY_HEADER, _latency_rows(r["latency_ms"], W1_NAMES))
    ratios = [
        [q, _x(r["ratio_A_raw"][q]), _ms(r["overhead_A_ms"][q]), _x(r["ratio_B_A"][q])]
        for q in ("p50", "p95", "p99")
    ]
    lines += _md_table(["", "A / raw", "A − raw", "B / A"], ratios)
    if "facts_per_write" in r:
        lines += [
            "Each write is the user's next chat turn that states a fact: "
            f"{r['facts_per_write']} facts on average.",
            "",
        ]
    return lines + dataset_line(r.get("dataset"))


# --- W3 ---------------------------------------------------------------------------------------------
W3_NAMES = {"1": "1-fact message (HTTP)", "3": "3-fact message (HTTP)"}


def w3_headline(r: dict) -> Rows:
    load, before = r["throughput"], r["before"]
    return [
        ("3-fact / 1-fact at p50", f"{_x(get(r, 'ratio_3_1', 'p50'))}"),
        (
            f"writes/s, {load['clients']} clients (before)",
            f"{load['writes_per_s']} ({before['writes_per_s']}, {_x(r.get('throughput_vs_before'))})",
        ),
    ]


def w3_details(r: dict) -> list[str]:
    lines = _md_table(LATENCY_HEADER, _latency_rows(r["latency_ms"], W3_NAMES))
    lines += _md_table(["", "3-fact / 1-fact"], [[q, _x(r["ratio_3_1"][q])] for q in ("p50", "p95", "p99")])
    load, before = r["throughput"], r["before"]
    if "latency_ms_1_3" in before:  # the same scenario measured on the commit before batched writes
        one, three = before["latency_ms_1_3"]["1"], before["latency_ms_1_3"]["3"]
        lines += [
            f"Before ({before['source']}): 1 fact {_ms(one)}, 3 facts {_ms(three)} at p50, "
            f"{_x(three / one if one else None)}.",
            "",
        ]
    rows = [
        [
            "now",
            load["writes_per_s"],
            load["facts_per_s"],
            _ms(load["latency_ms"]["p50"]),
            _ms(load["latency_ms"]["p95"]),
        ],
        [
            f"before ({before['source']})",
            before["writes_per_s"],
            "–",
            _ms(before["p50_ms"]),
            _ms(before["p95_ms"]),
        ],
    ]
    lines += _md_table(["throughput", "writes/s", "facts/s", "p50", "p95"], rows)
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


# --- W2 ---------------------------------------------------------------------------------------------
def w2_headline(r: dict) -> Rows:
    rows = []
    for phase, figures in r["phases"].items():
        shares = ", ".join(f"{flow} {_pct(figures[flow]['success_share'])}" for flow in ("A", "B"))
        rows.append((f"201s, {phase}", shares))
    return rows


def w2_details(r: dict) -> list[str]:
    rows = [
        [
            phase,
            flow,
            f"{f['succeeded']}/{f['attempts']}",
            _pct(f["success_share"]),
            ", ".join(f"{k}: {v}" for k, v in f["statuses"].items()),
            ", ".join(f"{k}: {v}" for k, v in f["error_codes"].items()) or "–",
            _ms(f["latency_ms"]["p50"]),
        ]
        for phase, figures in r["phases"].items()
        for flow, f in figures.items()
    ]
    return _md_table(["phase", "flow", "201", "share", "statuses", "errors", "p50"], rows)


# --- R1 ---------------------------------------------------------------------------------------------
R1_NAMES = {"L2": "L2 hit", "L1+L4": "L1 hit + L4 search (L2 stale)", "cold": "cold (never-seen query)"}


def r1_headline(r: dict) -> Rows:
    return [
        (
            "L2 / L1+L4 / cold p50",
            " / ".join(_ms(get(r, "latency_ms", k, "p50")) for k in ("L2", "L1+L4", "cold")),
        ),
        (
            "cold/L2 at p50, p99",
            f"{_x(get(r, 'ratio_cold_L2', 'p50'))}, {_x(get(r, 'ratio_cold_L2', 'p99'))}",
        ),
        (
            "L2/healthz p50 at 1, 16 connections",
            ", ".join(_x(get(r, "beside_healthz", c, "ratio_p50")) for c in ("1", "16")),
        ),
    ]


def r1_details(r: dict) -> list[str]:
    lines = _md_table(LATENCY_HEADER, _latency_rows(r["latency_ms"], R1_NAMES))
    unexpected = sum(r["unexpected_tier"].values())
    lines += [f"Answers from another tier than expected: {unexpected}.", ""]
    beside = r.get("beside_healthz") or {}
    rows = [
        [
            f"{name} × {c}",
            one[name]["latency_ms"]["n"],
            _ms(one[name]["latency_ms"]["p50"]),
            _ms(one[name]["latency_ms"]["p99"]),
            one[name]["req_s"],
            _x(one["ratio_p50"]) if name == "L2" else "",
        ]
        for c, one in beside.items()
        for name in ("healthz", "L2")
    ]
    if rows:
        lines += ["L2 hit beside `/healthz` (same server and client, alternating blocks):", ""]
        lines += _md_table(["route × connections", "n", "p50", "p99", "req/s", "L2/healthz p50"], rows)
        lines += [f"Hits answered by another tier: {sum(one['not_l2'] for one in beside.values())}.", ""]
    return lines


# --- R2 ---------------------------------------------------------------------------------------------
def r2_headline(r: dict) -> Rows:
    return [
        (
            "L2 hit ratio without, with warming",
            f"{_pct(get(r, 'without_warming', 'hit_ratio'))}, {_pct(get(r, 'with_warming', 'hit_ratio'))}",
        )
    ]


def r2_details(r: dict) -> list[str]:
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
                    _pct(f["hit_ratio"]),
                    _ms(f["search_latency_ms"]["p50"]),
                    _ms(f["warm_wait_ms"]["p50"]),
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
    return _md_table(header, rows) + [note, ""] + dataset_line(r.get("dataset"))


# --- R3 ---------------------------------------------------------------------------------------------
def r3_headline(r: dict) -> Rows:
    return [
        (
            f"L4 searches for {r['threads']} concurrent misses",
            f"max {r['l4_searches_max']}, mean {r['l4_searches_mean']}",
        )
    ]


def r3_details(r: dict) -> list[str]:
    rows = [
        [
            i + 1,
            x["l4_searches"],
            ", ".join(f"{k}: {v}" for k, v in x["tiers"].items()),
            x["errors"],
            _ms(x["latency_ms"]["p50"]),
            _ms(x["latency_ms"]["p99"]),
        ]
        for i, x in enumerate(r["rounds"])
    ]
    return _md_table(["round", "L4 searches", "tiers", "errors", "p50", "p99"], rows)


# --- F1 ---------------------------------------------------------------------------------------------
def f1_headline(r: dict) -> Rows:
    rows = []
    for children, f in r["by_children"].items():
        rows.append(
            (
                f"freshness p50/p99, {children} child(ren)",
                f"L3 {_ms(f['L3_ms']['p50'])}/{_ms(f['L3_ms']['p99'])}, "
                f"L2 {_ms(f['L2_ms']['p50'])}/{_ms(f['L2_ms']['p99'])}",
            )
        )
    return rows


def f1_details(r: dict) -> list[str]:
    rows = [
        [
            children,
            f["writes"],
            tier,
            _ms(f[f"{tier}_ms"]["p50"]),
            _ms(f[f"{tier}_ms"]["p95"]),
            _ms(f[f"{tier}_ms"]["p99"]),
            _ms(f[f"{tier}_ms"]["max"]),
            f["timeouts"],
        ]
        for children, f in sorted(r["by_children"].items())
        for tier in ("L3", "L2")
    ]
    note = f"{r['writers']} concurrent writers, polled every {r['poll_ms']} ms."
    return _md_table(["worker children", "writes", "tier", "p50", "p95", "p99", "max", "timeouts"], rows) + [
        note,
        "",
    ]


# --- S1 ---------------------------------------------------------------------------------------------
def s1_headline(r: dict) -> Rows:
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


def s1_details(r: dict) -> list[str]:
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
    return _md_table(header, rows) + [note, ""]


# --- S2 ---------------------------------------------------------------------------------------------
def s2_headline(r: dict) -> Rows:
    p, m = r["planning"], r["redis_memory"]
    return [
        (
            f"quiet-sweep plan, {p['users']:,} users",
            f"{p['users_per_s']:,.0f} users/s, peak {p['peak_python_mb']} MB; 1,000,000 users ≈ "
            f"{p['extrapolated_1m_s']:.0f} s",
        ),
        ("Redis per user", f"{m['bytes_per_user_total']:,} B ({m['extrapolated_1m_gb']} GiB per million)"),
    ]


def s2_details(r: dict) -> list[str]:
    p, m = r["planning"], r["redis_memory"]
    rows = [
        [
            f"{p['users']:,}",
            p["dirty_found"],
            p["pages"],
            f"{p['seconds_best']:.2f} s",
            f"{p['users_per_s']:,.0f}",
            f"{p['peak_python_mb']} MB",
            f"{p['rss_growth_mb']} MB",
            f"{p['extrapolated_1m_s']:.0f} s (goal < {p['target_1m_s']:.0f} s)",
        ]
    ]
    header = [
        "users",
        "dirty found",
        "pages",
        "plan",
        "users/s",
        "peak (tracemalloc)",
        "RSS growth",
        "1M users",
    ]
    lines = _md_table(header, rows)
    lines.append(
        f"Bulk load: L3 by COPY {p['load']['l3_load_s']} s, Redis pipelines {p['load']['redis_load_s']} s; "
        "planning is linear (one keyset page query and one MGET per 1,000 users), so 1M = users / rate."
    )
    lines.append("")
    kinds = [[kind, f"{size:,}"] for kind, size in m["bytes_per_user"].items()]
    kinds.append(["total", f"{m['bytes_per_user_total']:,}"])
    lines += _md_table(["Redis key kind (per user)", "bytes (MEMORY USAGE)"], kinds)
    lines += [
        f"{m['users_measured']} real users, {m['memories_per_user']} memories and "
        f"{m['queries_per_user']} queries each, written, searched and rebuilt; keys without a TTL: "
        f"{', '.join(m['keys_without_ttl']) or 'none'}. Shared L1: {m['l1_bytes_per_embedding']} B per "
        f"embedding ({m['l1_embeddings_created']} created).",
        "",
    ]
    return lines


# --- M1 ---------------------------------------------------------------------------------------------
def m1_headline(r: dict) -> Rows:
    return [
        (
            f"{name} peak RSS (sum over processes)",
            f"{f['peak_rss_mb']:,.0f} MB ({f['processes_at_peak']} processes)",
        )
        for name, f in r["processes"].items()
    ]


def m1_details(r: dict) -> list[str]:
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
    lines = _md_table(
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
        lines += _md_table(["process", "pid", "peak RSS", "RSS at end", "PSS at end"], per_process)
    return lines


# --- K1 ---------------------------------------------------------------------------------------------
def _worst_convergence(r: dict) -> float | None:
    return max((f["converged_s"] for f in r["faults"] if f["converged_s"] is not None), default=None)


def k1_headline(r: dict) -> Rows:
    q, c = r["requests"], r["convergence"]
    return [
        ("requests answered / sent (no answer)", f"{q['answered']:,} / {q['sent']:,} ({q['no_answer']})"),
        (
            "5xx outside / during PostgreSQL outages",
            f"{q['5xx_outside_pg_outage']} / {q['5xx_during_pg_outage']}",
        ),
        ("faults; unexpected process exits", f"{len(r['faults'])}; {r['restarts']['unexpected']}"),
        (
            "writes not converged; worst convergence",
            f"{c['writes_not_converged']}; {_worst_convergence(r)} s",
        ),
    ]


def k1_details(r: dict) -> list[str]:
    q, c, p = r["requests"], r["convergence"], r["size"]
    lines = [
        f"{p['duration_s']} s of load ({p['threads']} client threads, {p['rps']} requests/s in all, "
        f"{p['users']} users), a fault every {p['fault_every_s']} s, seed {r['seed']}; settings "
        + ", ".join(f"`{k}={v}`" for k, v in r["settings"].items())
        + "; everything else at its default. Tree log: `"
        + r["log"].split("/var/", 1)[-1]
        + "` (under var/).",
        "",
    ]
    rows = [
        [
            kind,
            k["sent"],
            ", ".join(f"{s}: {n}" for s, n in k["statuses"].items()),
            *_latency_rows({"x": k["latency_ms"]}, {"x": ""})[0][2:],
        ]
        for kind, k in q["by_kind"].items()
    ]
    lines += _md_table(["kind", "sent", "statuses (0: no answer)", "p50", "p95", "p99", "max"], rows)
    codes = [[code, n] for code, n in sorted(q["5xx_by_code"].items())] or [["none", 0]]
    lines += _md_table(["5xx (status, error code)", "answers"], codes)
    lines += [
        f"5xx while PostgreSQL was down (Mem0's table is there): {q['5xx_during_pg_outage']}; "
        f"outside: {q['5xx_outside_pg_outage']}; requests with no answer: {q['no_answer']}.",
        "",
    ]
    slow = [
        [e["kind"], round(e["sent"], 1), round(e["seconds"], 2), e["status"], ", ".join(e["during"]) or "–"]
        for e in q.get("slowest", [])[:5]
    ]
    lines += _md_table(["slowest requests", "sent at s", "took s", "status", "during fault"], slow)
    faults = [
        [
            f["at_s"],
            f["name"],
            f["duration_s"],
            f["writes_expected"],
            "n/a" if f["converged_s"] is None else f["converged_s"],
            ", ".join(f"{n} +{d}" for n, d in f["restarts"].items()) or "–",
        ]
        for f in r["faults"]
    ]
    lines += _md_table(["at s", "fault", "lasted s", "writes before", "converged s", "restarts"], faults)
    per = [[n, v["restarts"], v["expected"]] for n, v in r["restarts"]["per_process"].items()]
    lines += _md_table(["process", "restarts", "caused on purpose"], per)
    lines += [
        f"After the load: {c['writes_not_converged']} of {c['writes_accepted']:,} accepted writes not in L3 "
        f"after {c['after_load_s']} s (timeout {c['timeout_s']} s); users whose repeated search was not "
        f"an L2 hit: {len(c['l2_users_not_served'])}; faults never converged: "
        f"{len(c['faults_not_converged'])}. Converged means every write accepted before the fault's end "
        f"is in favourites served from L3, timed by a probe that re-reads "
        f"({c['probe_requests']} probe reads).",
        "",
    ]
    return lines


HEADLINES: dict[str, Callable[[dict], Rows]] = {
    "W1": w1_headline,
    "W3": w3_headline,
    "W2": w2_headline,
    "R1": r1_headline,
    "R2": r2_headline,
    "R3": r3_headline,
    "F1": f1_headline,
    "H1": h1_report.headline,
    "S1": s1_headline,
    "S2": s2_headline,
    "C1": c1_cluster.headline,
    "M1": m1_headline,
    "K1": k1_headline,
}
DETAILS: dict[str, Callable[[dict], list[str]]] = {
    "W1": w1_details,
    "W3": w3_details,
    "W2": w2_details,
    "R1": r1_details,
    "R2": r2_details,
    "R3": r3_details,
    "F1": f1_details,
    "H1": h1_report.details,
    "S1": s1_details,
    "S2": s2_details,
    "C1": c1_cluster.details,
    "M1": m1_details,
    "K1": k1_details,
}


def headline(scenario_id: str, figures: dict) -> Rows:
    try:
        return HEADLINES[scenario_id](figures)
    except (KeyError, TypeError) as exc:
        return [("(figures incomplete)", f"{type(exc).__name__}: {exc}")]


def details(scenario_id: str, figures: dict) -> list[str]:
    try:
        return DETAILS[scenario_id](figures)
    except (KeyError, TypeError) as exc:
        return [f"(figures incomplete: {type(exc).__name__}: {exc})", ""]
