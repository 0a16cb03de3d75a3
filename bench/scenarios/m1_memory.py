"""M1 memory: peak resident memory of the web and worker processes over the run so far.

The stack samples the RSS of each process tree (gunicorn master and workers; Celery parent and
pool children) every half second from its start. RSS counts pages shared after ``fork`` once per
process, so the sum overstates the real footprint; PSS (shared pages split between the processes
sharing them) is taken once, now, for comparison.
"""

from __future__ import annotations

import psutil

from bench.memory import MB
from bench.output import say

ID = "M1"
TITLE = "Memory: peak RSS of the web and worker processes"
SIZES = {"tiny": {}, "quick": {}, "full": {}}


def _pss_now(pid: int | None) -> dict:
    if pid is None:
        return {"pss_mb": None, "per_process_rss_mb": []}
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        pss = sum(p.memory_full_info().pss for p in procs)
        rss = [round(p.memory_info().rss / MB, 1) for p in procs]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return {"pss_mb": None, "per_process_rss_mb": []}
    return {"pss_mb": round(pss / MB, 1), "per_process_rss_mb": rss}


def run(stack, size: str) -> dict:
    sampler = stack.sampler
    now = sampler.sample()
    result = {"samples": sampler.samples, "processes": {}}
    for name, pid in (("web", stack.web and stack.web.pid), ("worker", stack.worker and stack.worker.pid)):
        figures = {
            "peak_rss_mb": sampler.peak_mb[name],
            "processes_at_peak": sampler.processes[name],
            "rss_now_mb": now[name],
        } | _pss_now(pid)
        result["processes"][name] = figures
        say(
            ID,
            f"{name:<6} peak RSS {figures['peak_rss_mb']:.0f} MB over {figures['processes_at_peak']} "
            f"processes; now RSS {figures['rss_now_mb']:.0f} MB, PSS {figures['pss_mb']} MB "
            f"(per process RSS {figures['per_process_rss_mb']})",
        )
    return result
