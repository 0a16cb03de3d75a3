"""Per-dependency readiness checks, run in parallel and bounded in time; messages carry no secrets.

Each check runs on a small pool of its own. A check still running at the deadline is reported as
``timeout`` and is not started again until it returns, so a hung dependency holds at most one
thread per check whatever the probe rate.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from memcache_platform.errors import PlatformError
from memcache_platform.tiers.redis_client import open_breakers, ping
from memcache_platform.wiring import Platform

STARTING = "starting"  # the error of the mem0 check while this process still builds Mem0


def _check(probe: Callable[[], object]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
    except PlatformError as exc:
        return {"ok": False, "error": exc.code}
    except Exception as exc:  # noqa: BLE001 - a failing dependency is an answer here, not an error
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _mem0_ping(p: Platform) -> None:
    mem0 = p.mem0_if_loaded  # never Platform.mem0: that would wait for a build in progress
    if mem0 is None:
        raise RuntimeError("Mem0 is still loading")
    mem0.ping()


class Readiness:
    """Runs the dependency checks of one platform within ``timeout_s``."""

    def __init__(
        self, p: Platform, timeout_s: float, checks: dict[str, Callable[[], object]] | None = None
    ) -> None:
        self.platform = p
        self.timeout_s = timeout_s
        self.checks: dict[str, Callable[[], object]] = checks or {
            "mem0": lambda: _mem0_ping(p),
            "redis": lambda: ping(p.redis),
            "l3_database": lambda: p.l3.ping(),
            "broker": lambda: p.task_queue.ping(timeout_s),
        }
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=len(self.checks), thread_name_prefix="readiness"
        )
        self._running: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def run(self) -> dict[str, dict[str, Any]]:
        """Every dependency's state; answers within ``timeout_s`` whatever hangs."""
        futures = {name: self._start(name) for name in self.checks if self._needed(name)}
        concurrent.futures.wait(futures.values(), timeout=self.timeout_s)
        results: dict[str, dict[str, Any]] = {"mem0": {"ok": False, "error": STARTING}}
        for name, future in futures.items():
            results[name] = future.result() if future.done() else {"ok": False, "error": "timeout"}
        if open_breakers(self.platform.redis):
            results["redis"]["breaker"] = "open"
        return results

    def _needed(self, name: str) -> bool:
        return name != "mem0" or self.platform.mem0_loaded

    def _start(self, name: str) -> concurrent.futures.Future[dict[str, Any]]:
        with self._lock:
            future = self._running.get(name)
            if future is None or future.done():
                future = self._pool.submit(_check, self.checks[name])
                self._running[name] = future
            return future


_readiness: weakref.WeakKeyDictionary[Platform, Readiness] = weakref.WeakKeyDictionary()
_readiness_lock = threading.Lock()


def check_dependencies(p: Platform) -> dict[str, dict[str, Any]]:
    """Mem0 (L4), Redis (L1/L2/watermarks), PostgreSQL (L3) and the Celery broker."""
    with _readiness_lock:
        readiness = _readiness.get(p)
        if readiness is None:
            readiness = _readiness[p] = Readiness(p, p.settings.readiness_timeout_s)
    return readiness.run()
