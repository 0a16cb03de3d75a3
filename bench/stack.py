"""The real stack the scenarios run against, started and always torn down by ``Stack``.

Servers: a private Redis and PostgreSQL under ``var/bench/`` (``memcache_platform.dev.servers``),
unless ``MEMCACHE_REDIS_URL`` / ``MEMCACHE_DATABASE_URL`` name servers to use. Then the L3 schema
is migrated and two real processes start with ``MEMCACHE_*`` settings in their environment:
gunicorn serving the API and a Celery prefork worker on the ``handoff`` and ``sweep`` queues. The
bench process also has its own ``Platform`` (raw L4 calls, watermarks, rebuilds, the planner); it
enqueues nothing, and never imports ``tasks``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.api import Api
from bench.memory import RssSampler
from bench.processes import ROOT, Service, celery_worker, children_settled, gunicorn, wait_until
from bench.servers import BenchPostgres, BenchRedis
from config.settings import Settings, _redis_db_url
from memcache_platform.dev.servers import free_port

BENCH_VAR = ROOT / "var" / "bench"
API_KEY = "bench-key"
ADMIN_KEY = "bench-admin-key"
READY_TIMEOUT_S = 240.0


def _no_enqueue(user_id: str) -> None:
    """The bench process's own platform hands nothing off (scenarios decide who rebuilds)."""
    return None


@dataclass
class StackOptions:
    """What to start. URLs left ``None`` mean an embedded server under ``root``."""

    root: Path = field(default_factory=lambda: BENCH_VAR / "run")
    redis_url: str | None = None
    database_url: str | None = None
    mem0_database_url: str | None = None
    separate_l4: bool = False  # L3 and L4 (Mem0) in two embedded PostgreSQL servers
    web_workers: int = 2
    worker_concurrency: int = 2  # 0: no Celery worker
    in_process_mem0: bool = True  # build Mem0 in the bench process (raw L4 calls, seeding)
    database: str = "memcache_bench"

    @classmethod
    def from_env(cls, **overrides: Any) -> StackOptions:
        """Servers given by ``MEMCACHE_REDIS_URL`` / ``MEMCACHE_DATABASE_URL`` (/ ``_MEM0_DATABASE_URL``)."""
        env = {
            "redis_url": os.environ.get("MEMCACHE_REDIS_URL") or None,
            "database_url": os.environ.get("MEMCACHE_DATABASE_URL") or None,
            "mem0_database_url": os.environ.get("MEMCACHE_MEM0_DATABASE_URL") or None,
        }
        return cls(**(env | overrides))


class Stack:
    """Servers, the web and worker processes, an in-process ``Platform`` and an API client."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.root = self.options.root.resolve()
        self.logs = self.root / "logs"
        self.redis: BenchRedis | None = None
        self.l3_pg: BenchPostgres | None = None
        self.l4_pg: BenchPostgres | None = None
        self.env: dict[str, str] = {}
        self.settings: Settings | None = None
        self.platform: Any = None
        self.api: Api | None = None
        self.web: Service | None = None
        self.worker: Service | None = None
        self.worker_hostname = f"bench-{os.getpid()}@localhost"
        self.sampler: RssSampler | None = None
        self.started_s = 0.0
        self._control: Any = None
        self._stopped = False
        # Unique per run: user ids and never-seen queries stay unique on servers given by URL too.
        self.token = time.strftime("%H%M%S", time.gmtime()) + f"p{os.getpid()}"

    # --- lifecycle ------------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Stack:
        atexit.register(self.stop)
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_s = round(time.monotonic() - started, 1)
        return self

    def _start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self.env = self._settings_env(*self._servers())
        self.settings = Settings(**{k.removeprefix("MEMCACHE_").lower(): v for k, v in self.env.items()})
        from memcache_platform.db.migrate import upgrade

        upgrade(self.settings.sqlalchemy_url)
        from memcache_platform.wiring import Platform

        self.platform = Platform(self.settings, enqueue=_no_enqueue)
        if self.options.in_process_mem0:
            # First, alone: on a fresh database Mem0 creates its table, and several processes doing
            # that at once collide in PostgreSQL's catalog (UniqueViolation on pg_type, seen in CI).
            self.platform.mem0  # noqa: B018
        child_env = self._child_env()
        self.web = gunicorn(child_env, self.logs / "web.log").start()
        if self.options.worker_concurrency:
            self.worker = celery_worker(
                child_env, self.logs / "worker.log", self.options.worker_concurrency, self.worker_hostname
            ).start()
        self.api = Api(f"http://{self.env['MEMCACHE_BIND']}", ADMIN_KEY)
        self._wait_ready()
        self.sampler = RssSampler({"web": lambda: self.web and self.web.pid, "worker": self._worker_pid})
        self.sampler.start()

    def _servers(self) -> tuple[str, str, str]:
        """Start the embedded servers that no URL replaces; (redis, L3, L4) URLs."""
        o = self.options
        redis_url = o.redis_url
        if redis_url is None:
            self.redis = BenchRedis(self.root / "redis").start()
            redis_url = self.redis.url
        l3_url = o.database_url
        if l3_url is None:
            self.l3_pg = BenchPostgres(self.root / "pg").start()
            l3_url = self.l3_pg.create_database(o.database)
        l4_url = o.mem0_database_url or (None if o.separate_l4 else l3_url)
        if l4_url is None:
            self.l4_pg = BenchPostgres(self.root / "pg-l4").start()
            l4_url = self.l4_pg.create_database(o.database + "_l4")
        return redis_url, l3_url, l4_url

    def _settings_env(self, redis_url: str, l3_url: str, l4_url: str) -> dict[str, str]:
        mem0_dir = self.root / "mem0"
        shutil.rmtree(mem0_dir, ignore_errors=True)  # Mem0's history database: fresh per run
        return {
            "MEMCACHE_REDIS_URL": redis_url,
            "MEMCACHE_BROKER_URL": _redis_db_url(redis_url, 1),
            "MEMCACHE_RESULT_BACKEND": _redis_db_url(redis_url, 2),
            "MEMCACHE_DATABASE_URL": l3_url,
            "MEMCACHE_MEM0_DATABASE_URL": l4_url,
            "MEMCACHE_MEM0_DIR": str(mem0_dir),
            "MEMCACHE_MEM0_BACKEND": "local",
            "MEMCACHE_EXTRACTOR": "rules",
            "MEMCACHE_WRITE_MODE": "async",
            "MEMCACHE_API_KEYS": API_KEY,
            "MEMCACHE_ADMIN_API_KEYS": ADMIN_KEY,
            "MEMCACHE_BIND": f"127.0.0.1:{free_port()}",
            "MEMCACHE_WEB_WORKERS": str(self.options.web_workers),
            # The per-key rate limits would cap the load the scenarios need (one key sends it all).
            "MEMCACHE_RATE_LIMIT_ENABLED": "false",
        }

    def _child_env(self) -> dict[str, str]:
        metrics_dir = self.root / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # prometheus-client sums every file it finds
        metrics_dir.mkdir(mode=0o700)
        env = os.environ.copy() | self.env
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        env.setdefault("XDG_RUNTIME_DIR", str(self.root / "run"))
        return env

    def _wait_ready(self) -> None:
        def web_ready() -> bool:
            if not self.web or not self.web.alive():
                raise RuntimeError(f"web process exited:\n{self.web and self.web.log_tail()}")
            return bool(self.api and self.api.readyz().get("checks", {}).get("mem0", {}).get("ok"))

        wait_until(web_ready, READY_TIMEOUT_S, "web /readyz with Mem0 ready", 0.5)
        wait_until(
            lambda: children_settled(self.web, self.options.web_workers), READY_TIMEOUT_S, "web workers"
        )
        if self.worker:
            self.wait_worker_ready(self.options.worker_concurrency)

    def wait_worker_ready(self, children: int) -> None:
        """The worker answers a ping and ``children`` pool processes have built Mem0."""

        def ready() -> bool:
            if not self.worker or not self.worker.alive():
                raise RuntimeError(f"worker exited:\n{self.worker and self.worker.log_tail()}")
            return bool(self.control.ping(destination=[self.worker_hostname], timeout=1.0))

        wait_until(ready, READY_TIMEOUT_S, "Celery worker ping", 0.5)
        wait_until(lambda: children_settled(self.worker, children), READY_TIMEOUT_S, "Celery pool")

    def _worker_pid(self) -> int | None:
        return self.worker.pid if self.worker else None

    def stop(self) -> None:
        """Stop everything this stack started; safe to call twice, never raises."""
        if self._stopped:
            return
        self._stopped = True
        steps = [
            lambda: self.sampler and self.sampler.stop(),
            lambda: self.worker and self.worker.stop(),
            lambda: self.web and self.web.stop(),
            self._close_platform,
            lambda: self._control and self._control.app.close(),
            lambda: self.redis and self.redis.stop(),
            lambda: self.l4_pg and self.l4_pg.stop(),
            lambda: self.l3_pg and self.l3_pg.stop(),
        ]
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - tear down the rest whatever failed
                print(f"bench: teardown step failed: {type(exc).__name__}: {exc}")

    def _close_platform(self) -> None:
        if self.platform is None:
            return
        if self.platform.mem0_loaded:
            pool = getattr(self.platform.mem0.backend, "pool", None)
            if pool is not None:
                pool.close()
            self.platform.mem0._executor.shutdown(wait=False, cancel_futures=True)
        if "l3" in vars(self.platform):
            self.platform.l3.engine.dispose()

    # --- the worker's pool ---------------------------------------------------------------------------

    @property
    def control(self) -> Any:
        """Celery remote control of the bench worker, through a private app (``tasks`` is never imported)."""
        if self._control is None:
            from celery import Celery

            app = Celery("bench-control", broker=self.env["MEMCACHE_BROKER_URL"], set_as_current=False)
            app.conf.broker_connection_retry_on_startup = True
            self._control = app.control
        return self._control

    def pool_size(self) -> int:
        return len(self.worker.children()) if self.worker else 0

    def set_pool_size(self, children: int) -> None:
        """Grow or shrink the worker's prefork pool (no restart), then wait until it is ready."""
        current = self.pool_size()
        if children > current:
            self.control.pool_grow(children - current, destination=[self.worker_hostname], reply=True)
        elif children < current:
            self.control.pool_shrink(current - children, destination=[self.worker_hostname], reply=True)
            wait_until(lambda: self.pool_size() == children, 60, "pool shrink")
        self.wait_worker_ready(children)

    # --- helpers for scenarios ----------------------------------------------------------------------

    def l4_calls(self, operation: str) -> float:
        """``memcache_l4_calls_total{operation=...}`` over the web and worker processes."""
        assert self.api is not None
        return self.api.metric("memcache_l4_calls_total", operation=operation)

    def wait_idle(self, timeout_s: float = 60.0) -> None:
        """Wait until the worker has no task running or queued (hand-offs of earlier writes)."""
        if not self.worker:
            return
        redis_client = redis.Redis.from_url(self.env["MEMCACHE_BROKER_URL"])

        def idle() -> bool:
            queued = sum(redis_client.llen(q) for q in ("handoff", "sweep"))
            active = self.control.inspect(destination=[self.worker_hostname], timeout=1.0).active() or {}
            reserved = self.control.inspect(destination=[self.worker_hostname], timeout=1.0).reserved() or {}
            return queued == 0 and not any(active.values()) and not any(reserved.values())

        try:
            wait_until(idle, timeout_s, "worker idle", 0.2)
        finally:
            redis_client.close()

    def describe(self) -> dict[str, Any]:
        """What ran, for the results file (no keys, no URLs with credentials)."""
        o = self.options
        return {
            "redis": "embedded" if self.redis else "given by MEMCACHE_REDIS_URL",
            "l3_database": "embedded" if self.l3_pg else "given by MEMCACHE_DATABASE_URL",
            "l4_database": (
                "embedded, separate" if self.l4_pg else "same as L3" if not o.mem0_database_url else "given"
            ),
            "web_workers": o.web_workers,
            "gunicorn_threads": 4,
            "worker_concurrency": o.worker_concurrency,
            "rate_limits": "off",
            "start_s": self.started_s,
        }
