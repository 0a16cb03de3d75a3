"""The real processes of the stack: gunicorn (web) and a Celery prefork worker, each logging to a file.

Each is started in its own session, so stopping it (SIGTERM, then SIGKILL to that session only after
a grace period) never touches anything this run did not start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class Service:
    """One long-running child process (and its own children)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,  # a file, never a pipe: an unread pipe would stall the child
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[psutil.Process]:
        if not self.alive():
            return []
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)  # type: ignore[union-attr]
        except psutil.NoSuchProcess:
            return []

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (warm shutdown), then SIGKILL to the process's own session if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout_s)
        # Children that outlived their parent are still in the session this process created.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None


def gunicorn(env: dict[str, str], log_path: Path) -> Service:
    argv = [
        str(BIN / "gunicorn"),
        "--config",
        "python:memcache_platform.dev.gunicorn_conf",
        "memcache_platform.api:create_app()",
    ]
    return Service("web", argv, env, log_path)


def celery_worker(env: dict[str, str], log_path: Path, concurrency: int, hostname: str) -> Service:
    argv = [
        str(BIN / "celery"),
        "-A",
        "tasks",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--queues=handoff,sweep",
        "-E",
        "--loglevel=INFO",
        f"--hostname={hostname}",
    ]
    return Service("worker", argv, env, log_path)


def wait_until(probe: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.2) -> object:
    """Poll ``probe`` until truthy; raise ``TimeoutError`` naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout_s:.0f} s")
        time.sleep(interval_s)


def children_settled(service: Service, expected: int, *, min_cpu_s: float = 0.2) -> bool:
    """True when ``expected`` children exist, each has done its start-up work and is now idle.

    Mem0 is built in each child after the fork (a second or more of CPU); a child that has used at least
    ``min_cpu_s`` and then almost none for half a second has finished building it.
    """
    kids = service.children()
    if len(kids) < expected:
        return False
    try:
        before = [k.cpu_times() for k in kids]
        time.sleep(0.5)
        after = [k.cpu_times() for k in kids]
    except psutil.NoSuchProcess:
        return False
    for b, a in zip(before, after, strict=True):
        used, recent = a.user + a.system, (a.user + a.system) - (b.user + b.system)
        if used < min_cpu_s or recent > 0.05:
            return False
    return True
