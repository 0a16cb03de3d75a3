"""Real Celery processes as subprocesses: prefork workers with their own node names (as on separate
hosts), beat and Flower."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from celery import Celery

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CeleryProcess:
    """One ``celery -A tasks <command>`` as the Procfile starts it, its log in a file."""

    name: str
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    _log: object = field(default=None, repr=False)

    def arguments(self) -> list[str]:
        """What follows ``celery -A tasks``."""
        raise NotImplementedError

    def start(self) -> CeleryProcess:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", *self.arguments()],
            cwd=ROOT,
            env=os.environ | self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,  # a file, not a pipe: an unread pipe would fill and stall the process
            stderr=subprocess.STDOUT,
        )
        return self

    def sigkill(self) -> None:
        """SIGKILL the whole process tree at once, main process and children, as a host that dies."""
        assert self.proc is not None
        main = psutil.Process(self.proc.pid)
        for process in [main, *main.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Stop the process and whatever children it left behind."""
        if self.proc is not None:
            try:
                children = psutil.Process(self.proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            for child in children:
                if child.is_running():
                    child.kill()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]

    def log(self, tail: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]


@dataclass
class WorkerProcess(CeleryProcess):
    """A prefork worker: concurrency 1, events on, no gossip or mingle (the Procfile's flags)."""

    queues: str = "handoff,sweep"

    @property
    def hostname_prefix(self) -> str:
        return f"{self.name}@"

    def arguments(self) -> list[str]:
        return [
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--events",
            "--without-gossip",
            "--without-mingle",
            f"--queues={self.queues}",
            f"--hostname={self.name}@%h",
            "--loglevel=INFO",
        ]


@dataclass
class BeatProcess(CeleryProcess):
    """Celery beat with the platform's RedBeat scheduler (config/celeryconfig.py)."""

    def arguments(self) -> list[str]:
        return ["beat", "--loglevel=INFO"]


@dataclass
class FlowerProcess(CeleryProcess):
    """Flower on loopback; basic auth comes from ``FLOWER_BASIC_AUTH`` in ``env``."""

    port: int = 5555

    def arguments(self) -> list[str]:
        return ["flower", "--address=127.0.0.1", f"--port={self.port}"]


def producer(broker_url: str, result_backend: str) -> Celery:
    """A Celery app with the platform's config but another broker: the test's side of those workers."""
    app = Celery("test-producer", set_as_current=False)
    app.config_from_object("config.celeryconfig")
    app.conf.update(broker_url=broker_url, result_backend=result_backend)
    return app


def producer_for(settings: Settings) -> Celery:
    """A Celery app configured by config/celeryconfig.py as a process with ``settings`` would be."""
    import config.settings

    path = ROOT / "config" / "celeryconfig.py"
    spec = importlib.util.spec_from_file_location("celeryconfig_for_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    original = config.settings.get_settings
    config.settings.get_settings = lambda: settings  # read once, by the module's top level
    try:
        spec.loader.exec_module(module)
    finally:
        config.settings.get_settings = original
    app = Celery("test-producer", set_as_current=False)
    app.config_from_object(module)
    return app


def wait_for_pongs(app: Celery, names: list[str], timeout_s: float = 240.0) -> set[str]:
    """Wait until every named worker answers a ping; the hostnames that answered."""
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for reply in app.control.ping(timeout=1.0) or []:
            seen.update(reply)
        if all(any(host.startswith(f"{name}@") for host in seen) for name in names):
            return seen
        time.sleep(0.5)
    return seen
