"""The process tree that ``make run`` starts, driven from Python (fault tests, the soak benchmark).

``memcache dev run`` runs in a subprocess.

Its Redis and PostgreSQL are started here (the same embedded servers ``make run`` would start) so
that a test can SIGKILL, SIGSTOP and restart them; cache and broker share that one Redis, as under
``make run``. With ``embedded=True`` they are left to ``memcache dev run`` itself, exactly as
``make run`` starts them (and must stop them on Ctrl-C). Everything the tree writes lives under its
own ``MEMCACHE_VAR_DIR``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # the bench extra; the tests and the bench install it
import requests

from memcache_platform.dev.servers import PostgresServer, RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]  # the repository (its Procfile)
KEY = "tree-key"
# The suite's own servers and settings must not leak into the tree: it gets make run's defaults.
_SUITE_ONLY = (
    "MEMCACHE_BROKER_URL",
    "MEMCACHE_RESULT_BACKEND",
    "MEMCACHE_RATE_LIMIT_WRITES",
    "MEMCACHE_RATE_LIMIT_SEARCHES",
    "MEMCACHE_RATE_LIMIT_USER_WRITES",
    "MEMCACHE_RATE_LIMIT_USER_SEARCHES",
    "MEMCACHE_RATE_LIMIT_BULK",
    "MEMCACHE_SWEEP_RATE_LIMIT",
    "MEMCACHE_MEM0_TIMEOUT_S",
    "PROMETHEUS_MULTIPROC_DIR",
)
# What ``dev run`` reads to decide which servers to start itself.
_SERVER_URLS = ("MEMCACHE_REDIS_URL", "MEMCACHE_DATABASE_URL", "MEMCACHE_MEM0_DATABASE_URL")


@dataclass
class ProcessTree:
    """``memcache dev run`` with its own Redis, PostgreSQL, ports and var directory."""

    var_dir: Path
    settings: dict[str, str] = field(default_factory=dict)
    embedded: bool = False  # True: ``dev run`` starts (and stops) Redis and PostgreSQL itself
    redis: RedisServer = field(init=False)
    pg: PostgresServer = field(init=False)
    port: int = field(default_factory=free_port)
    flower_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.redis = RedisServer(self.var_dir / "redis")
        self.pg = PostgresServer(self.var_dir / "pg")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.var_dir / "tree.log"

    def start(self, ready_timeout_s: float = 180) -> ProcessTree:
        """Start servers and the tree; return once every process runs and the API is ready."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in _SUITE_ONLY}
        if self.embedded:
            for name in _SERVER_URLS:
                env.pop(name, None)
        else:
            self.redis.start()
            self.pg.start()
            database = self.pg.create_database("memcache_tree", drop_first=True)
            env.update(MEMCACHE_REDIS_URL=self.redis.url, MEMCACHE_DATABASE_URL=database)
        env.update(
            MEMCACHE_VAR_DIR=str(self.var_dir),
            MEMCACHE_MEM0_DIR=str(self.var_dir / "mem0"),
            MEMCACHE_API_KEYS=KEY,
            MEMCACHE_ADMIN_API_KEYS=KEY,
            MEMCACHE_BIND=f"127.0.0.1:{self.port}",
            MEMCACHE_FLOWER_PORT=str(self.flower_port),
            MEMCACHE_FLOWER_BASIC_AUTH="admin:tree",
            XDG_RUNTIME_DIR=str(self.var_dir / "run"),
        )
        env.update(self.settings)
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "memcache"), "dev", "run"],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"memcache dev run exited; see {self.log_path}")
            if self.ready() and all(p["running"] for p in self.processes().values()):
                return self
            time.sleep(0.5)
        raise RuntimeError(f"the tree did not get ready in {ready_timeout_s} s; see {self.log_path}")

    def ready(self) -> bool:
        try:
            return requests.get(self.url + "/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def server_processes(self) -> list[psutil.Process]:
        """The Redis and PostgreSQL processes serving from this tree's var directory, whoever started them."""
        var = str(self.var_dir.resolve())
        found = []
        # redis-server rewrites its command line ("redis-server 127.0.0.1:port") but runs in its --dir.
        for process in psutil.process_iter(["name", "cmdline", "cwd"]):
            where = " ".join(process.info["cmdline"] or []) + " " + (process.info["cwd"] or "")
            if process.info["name"] in ("redis-server", "postgres") and var in where:
                found.append(process)
        return found

    def stop(self) -> int | None:
        """Ctrl-C, as a user stops it; the exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(10)
        finally:
            self.redis.stop()
            self.pg.stop()

    # --- what runs ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        path = self.var_dir / "run" / "supervisor.json"
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"processes": {}}

    def processes(self) -> dict[str, dict[str, Any]]:
        """The supervisor's view: per Procfile process, pid, running, restarts, last exit."""
        return self.state()["processes"]

    def restarts(self) -> dict[str, int]:
        return {name: p["restarts"] for name, p in self.processes().items()}

    def main_process(self, name: str) -> psutil.Process:
        """The program of a Procfile entry (below the ``sh -c`` the supervisor starts)."""
        shell = psutil.Process(self.processes()[name]["pid"])
        children = shell.children()
        return children[0] if children and shell.name() in ("sh", "dash", "bash") else shell

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    # --- the HTTP API ---------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {KEY}"} | kwargs.pop("headers", {})
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def write(self, user_id: str, text: str) -> requests.Response:
        return self.call(
            "POST", f"/v1/users/{user_id}/memories", json={"messages": [{"role": "user", "content": text}]}
        )
