"""Peak resident memory of the stack's processes, sampled in the background for the whole run."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import psutil

MB = 1024 * 1024


# What each process of a tree is, by the tree's name: (the root's role, its children's role).
ROLES = {"web": ("gunicorn master", "web worker"), "worker": ("Celery parent", "Celery pool child")}


def tree_processes(pid: int | None) -> list[psutil.Process]:
    """The process and all its children (empty when it is gone)."""
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def process_rss(procs: list[psutil.Process]) -> dict[int, int]:
    """RSS in bytes per pid, leaving out processes that exited meanwhile."""
    rss = {}
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss[proc.pid] = proc.memory_info().rss
    return rss


def tree_rss(pid: int | None) -> tuple[int, int]:
    """(sum of RSS of the process and all its children, number of processes), in bytes."""
    procs = tree_processes(pid)
    return sum(process_rss(procs).values()), len(procs)


def role(tree: str, root_pid: int | None, pid: int) -> str:
    """What ``pid`` is in the tree named ``tree`` ("web worker", "Celery pool child", ...)."""
    root, child = ROLES.get(tree, (tree, f"{tree} child"))
    return root if pid == root_pid else child


class RssSampler:
    """Samples ``targets`` (name -> a function giving the current root pid) every ``interval_s``."""

    def __init__(self, targets: dict[str, Callable[[], int | None]], interval_s: float = 0.5) -> None:
        self.targets = targets
        self.interval_s = interval_s
        self.peak_mb: dict[str, float] = {name: 0.0 for name in targets}
        self.processes: dict[str, int] = {name: 0 for name in targets}
        # Per process ever seen: tree, role, pid and its own peak RSS (a restarted child is a new row).
        self.per_process: dict[int, dict] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def sample(self) -> dict[str, float]:
        """Take one sample now; returns the current MB per target."""
        now: dict[str, float] = {}
        for name, pid_of in self.targets.items():
            root_pid = pid_of()
            procs = tree_processes(root_pid)
            rss = process_rss(procs)
            now[name] = round(sum(rss.values()) / MB, 1)
            if now[name] > self.peak_mb[name]:
                self.peak_mb[name] = now[name]
                self.processes[name] = len(procs)
            for pid, value in rss.items():
                row = self.per_process.setdefault(
                    pid, {"tree": name, "role": role(name, root_pid, pid), "pid": pid, "peak_rss_mb": 0.0}
                )
                row["peak_rss_mb"] = max(row["peak_rss_mb"], round(value / MB, 1))
        self.samples += 1
        return now

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
