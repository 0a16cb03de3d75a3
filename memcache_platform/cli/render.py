"""Terminal renderings of the ``memcache`` command's results: plain aligned text, no dependencies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def cell(value: Any) -> str:
    """One value as a table cell: ``-`` for None, yes/no for booleans."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def pairs(rows: Iterable[tuple[str, Any]], indent: str = "") -> str:
    """``key  value`` lines with the values aligned."""
    rows = [(k, cell(v)) for k, v in rows]
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{indent}{k.ljust(width)}  {v}".rstrip() for k, v in rows)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Sequence[int] = ()) -> str:
    """Columns aligned to their widest cell; the columns in ``right`` are right-aligned."""
    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def status(data: dict[str, Any]) -> str:
    """The tier table of one user, then the hot queries."""
    entries = data.get("entries") or {}
    tiers = data.get("tiers") or {}
    rows: list[tuple[str, Any]] = [
        ("user", data.get("user_id")),
        ("watermark", data.get("watermark")),
        ("built_from", data.get("built_from")),
        ("built_at", data.get("built_at")),
        ("stale", data.get("stale")),
        ("lag_s", data.get("lag_s")),
        ("generation", data.get("generation")),
        ("pending", data.get("pending")),
        ("entries L1", entries.get("L1")),
        ("entries L2", entries.get("L2")),
        ("entries L3", entries.get("L3")),
        ("redis", tiers.get("redis")),
        ("l3", tiers.get("l3")),
    ]
    out = [pairs(rows)]
    hot = data.get("hot_queries")
    if hot is None:
        out.append("hot queries: unknown (Redis unavailable)")
    elif not hot:
        out.append("hot queries: none")
    else:
        out.append("hot queries:")
        rows_hot = [(i, q.get("query"), q.get("limit"), q.get("session_id")) for i, q in enumerate(hot, 1)]
        out.append(_indent(table(["#", "query", "limit", "session"], rows_hot, right=(0, 2))))
    return "\n".join(out)


def rebuild(result: dict[str, Any]) -> str:
    """A rebuild task's result (``RebuildResult``)."""
    keys = ("outcome", "rebuilds", "memories", "built_from_watermark", "generation", "l2_entries")
    rows = [(k, result.get(k)) for k in keys if k in result]
    categories = result.get("categories")
    if categories:
        rows.append(("categories", ", ".join(f"{k}={v}" for k, v in sorted(categories.items()))))
    if "duration_ms" in result:
        rows.append(("duration_ms", result["duration_ms"]))
    return pairs(rows)


SWEEP_KEYS = ("total", "dirty", "aged", "skipped", "rebuilt", "current", "coalesced", "failed")


def sweep(summary: dict[str, Any]) -> str:
    """A finished sweep's summary."""
    rows = [(k, summary.get(k)) for k in SWEEP_KEYS if k in summary]
    started, finished = summary.get("started_at"), summary.get("finished_at")
    if isinstance(started, int | float) and isinstance(finished, int | float):
        rows.append(("duration_s", round(finished - started, 3)))
    return pairs(rows)


def written(data: dict[str, Any]) -> str:
    """The answer of ``POST /v1/users/{id}/memories``: what was stored, then the cache hand-off."""
    if not data.get("memories"):
        return "No facts found in the text: nothing stored."
    cache = data.get("cache") or {}
    outcome = cache.get("handoff") or ("rebuilt inline" if cache.get("mode") == "strict" else None)
    mode, watermark = cell(cache.get("mode")), cell(cache.get("watermark"))
    return f"{memories(data['memories'])}\n\nhand-off: {cell(outcome)} (mode {mode}, watermark {watermark})"


def search(data: dict[str, Any]) -> str:
    """The answer of ``GET /v1/users/{id}/search``: the answering tier, then the hits."""
    tier = str(data.get("tier")) + (" (degraded: Redis unavailable)" if data.get("degraded") else "")
    if data.get("stale"):
        tier += " (stale: Mem0 unavailable, older than the latest write)"
    body = results(data["results"]) if data.get("results") else "no results"
    return f"tier: {tier}\n{body}"


def memories(rows: Sequence[dict[str, Any]]) -> str:
    """Stored memories: id, category, memory."""
    return table(
        ["id", "category", "memory"], [(m.get("id"), m.get("category"), m.get("memory")) for m in rows]
    )


def results(rows: Sequence[dict[str, Any]]) -> str:
    """Search hits: score, category, memory."""
    return table(
        ["score", "category", "memory"],
        [(_score(r.get("score")), r.get("category"), r.get("memory")) for r in rows],
        right=(0,),
    )


def _score(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else cell(value)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def imported(data: dict[str, Any]) -> str:
    """``memcache import``'s summary: totals, then a row per user, then the failed records."""
    head = f"{data['file']} ({data['format']}): {data['records']} records"
    users = data.get("users") or {}
    if data.get("dry_run"):
        to_send = sum(c["to_send"] for c in users.values())
        resumed = sum(c["resumed"] for c in users.values())
        rows = [(u, c["to_send"], c["resumed"]) for u, c in users.items()]
        return "\n".join(
            [
                f"dry run, nothing sent. {head}, {len(users)} users: {to_send} to send, "
                f"{resumed} already imported (state {data['state']})",
                table(["user", "to send", "already imported"], rows, right=(1, 2)),
            ]
        )
    done = "interrupted" if data.get("interrupted") else "imported"
    lines = [
        f"{done} {head}, {len(users)} users in {data['duration_s']} s: {data['written']} written, "
        f"{data['skipped']} skipped (duplicates or no facts), {data['failed']} failed, "
        f"{data['resumed']} already imported; {data['batches']} batches, {data['handoffs']} hand-offs",
        table(
            ["user", "written", "skipped", "failed", "already imported"],
            [(u, c["written"], c["skipped"], c["failed"], c["resumed"]) for u, c in users.items()],
            right=(1, 2, 3, 4),
        ),
    ]
    if data.get("errors"):
        lines += ["failed records:", *(f"  {e}" for e in data["errors"])]
    if data.get("interrupted"):
        lines.append(f"state kept in {data['state']}: run the same command again to resume")
    return "\n".join(lines)
