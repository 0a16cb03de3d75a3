"""Peak resident memory of the stack's processes, sampled in the background for the whole run."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import psutil

MB = 1024 * 1024


def tree_rss(pid: int | None) -> tuple[int, int]:
    """(sum of RSS of the process and all its children, number of processes), in bytes."""
    if pid is None:
        return 0, 0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total, len(procs)


class RssSampler:
    """Samples ``targets`` (name -> a function giving the current root pid) every ``interval_s``."""

    def __init__(self, targets: dict[str, Callable[[], int | None]], interval_s: float = 0.5) -> None:
        self.targets = targets
        self.interval_s = interval_s
        self.peak_mb: dict[str, float] = {name: 0.0 for name in targets}
        self.processes: dict[str, int] = {name: 0 for name in targets}
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
            rss, count = tree_rss(pid_of())
            now[name] = round(rss / MB, 1)
            if now[name] > self.peak_mb[name]:
                self.peak_mb[name] = now[name]
                self.processes[name] = count
        self.samples += 1
        return now

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
