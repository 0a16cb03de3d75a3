"""K1's headline rows and report tables (soak): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, latency_rows, md_table


def _worst_convergence(r: dict) -> float | None:
    return max((f["converged_s"] for f in r["faults"] if f["converged_s"] is not None), default=None)


def headline(r: dict) -> Rows:
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


def details(r: dict) -> list[str]:
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
            *latency_rows({"x": k["latency_ms"]}, {"x": ""})[0][2:],
        ]
        for kind, k in q["by_kind"].items()
    ]
    lines += md_table(["kind", "sent", "statuses (0: no answer)", "p50", "p95", "p99", "max"], rows)
    codes = [[code, n] for code, n in sorted(q["5xx_by_code"].items())] or [["none", 0]]
    lines += md_table(["5xx (status, error code)", "answers"], codes)
    lines += [
        f"5xx while PostgreSQL was down (Mem0's table is there): {q['5xx_during_pg_outage']}; "
        f"outside: {q['5xx_outside_pg_outage']}; requests with no answer: {q['no_answer']}.",
        "",
    ]
    slow = [
        [e["kind"], round(e["sent"], 1), round(e["seconds"], 2), e["status"], ", ".join(e["during"]) or "–"]
        for e in q.get("slowest", [])[:5]
    ]
    lines += md_table(["slowest requests", "sent at s", "took s", "status", "during fault"], slow)
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
    lines += md_table(["at s", "fault", "lasted s", "writes before", "converged s", "restarts"], faults)
    per = [[n, v["restarts"], v["expected"]] for n, v in r["restarts"]["per_process"].items()]
    lines += md_table(["process", "restarts", "caused on purpose"], per)
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
