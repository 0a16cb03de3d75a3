"""M1 memory: peak resident memory of the web and worker processes over the run so far.

The stack samples the RSS of each process tree (gunicorn master and workers; Celery parent and
pool children; the bench stack runs no beat) every half second from its start, per tree and per
process. RSS counts pages shared after ``fork`` once per process, so the sum overstates the real
footprint; PSS (shared pages split between the processes sharing them) is taken once, now, for
comparison.
"""

from __future__ import annotations

import psutil

from bench.memory import MB, role
from bench.output import say

ID = "M1"
TITLE = "Memory: peak RSS of the web and worker processes"
SIZES = {"tiny": {}, "quick": {}, "full": {}}


def _now(name: str, pid: int | None) -> tuple[dict, list[dict]]:
    """The tree's PSS now, and each of its processes' RSS and PSS now."""
    if pid is None:
        return {"pss_mb": None}, []
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        rows = [
            {
                "tree": name,
                "role": role(name, pid, p.pid),
                "pid": p.pid,
                "rss_now_mb": round(p.memory_info().rss / MB, 1),
                "pss_now_mb": round(p.memory_full_info().pss / MB, 1),
            }
            for p in procs
        ]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return {"pss_mb": None}, []
    return {"pss_mb": round(sum(r["pss_now_mb"] for r in rows), 1)}, rows


def run(stack, size: str) -> dict:
    sampler = stack.sampler
    now = sampler.sample()
    result: dict = {"samples": sampler.samples, "processes": {}, "per_process": []}
    for name, pid in (("web", stack.web and stack.web.pid), ("worker", stack.worker and stack.worker.pid)):
        tree, rows = _now(name, pid)
        for row in rows:  # with its peak over the run, sampled every half second
            sampled = sampler.per_process.get(row["pid"], {}).get("peak_rss_mb", 0.0)
            row["peak_rss_mb"] = max(sampled, row["rss_now_mb"])
        result["per_process"] += rows
        figures = {
            "peak_rss_mb": sampler.peak_mb[name],
            "processes_at_peak": sampler.processes[name],
            "rss_now_mb": now[name],
            "per_process_rss_mb": [r["rss_now_mb"] for r in rows],
        } | tree
        result["processes"][name] = figures
        say(
            ID,
            f"{name:<6} peak RSS {figures['peak_rss_mb']:.0f} MB over {figures['processes_at_peak']} "
            f"processes; now RSS {figures['rss_now_mb']:.0f} MB, PSS {figures['pss_mb']} MB "
            f"(per process RSS {figures['per_process_rss_mb']})",
        )
    for row in result["per_process"]:
        say(
            ID,
            f"  {row['role']:<18} pid {row['pid']:<7} peak RSS {row['peak_rss_mb']:.0f} MB, "
            f"now RSS {row['rss_now_mb']:.0f} MB, PSS {row['pss_now_mb']:.0f} MB",
        )
    return result
