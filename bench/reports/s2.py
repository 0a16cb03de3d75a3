"""S2's headline rows and report tables (a million users): what its results say."""

from __future__ import annotations

from bench.reports.common import Rows, md_table


def headline(r: dict) -> Rows:
    p, m = r["planning"], r["redis_memory"]
    return [
        (
            f"quiet-sweep plan, {p['users']:,} users",
            f"{p['users_per_s']:,.0f} users/s, peak {p['peak_python_mb']} MB; 1,000,000 users ≈ "
            f"{p['extrapolated_1m_s']:.0f} s",
        ),
        ("Redis per user", f"{m['bytes_per_user_total']:,} B ({m['extrapolated_1m_gb']} GiB per million)"),
    ]


def details(r: dict) -> list[str]:
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
    lines = md_table(header, rows)
    lines.append(
        f"Bulk load: L3 by COPY {p['load']['l3_load_s']} s, Redis pipelines {p['load']['redis_load_s']} s; "
        "planning is linear (one keyset page query and one MGET per 1,000 users), so 1M = users / rate."
    )
    lines.append("")
    kinds = [[kind, f"{size:,}"] for kind, size in m["bytes_per_user"].items()]
    kinds.append(["total", f"{m['bytes_per_user_total']:,}"])
    lines += md_table(["Redis key kind (per user)", "bytes (MEMORY USAGE)"], kinds)
    lines += [
        f"{m['users_measured']} real users, {m['memories_per_user']} memories and "
        f"{m['queries_per_user']} queries each, written, searched and rebuilt; keys without a TTL: "
        f"{', '.join(m['keys_without_ttl']) or 'none'}. Shared L1: {m['l1_bytes_per_embedding']} B per "
        f"embedding ({m['l1_embeddings_created']} created).",
        "",
    ]
    return lines
