"""Per-dependency readiness checks, each bounded in time; messages never carry URLs or secrets."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from memcache_platform.errors import PlatformError
from memcache_platform.wiring import Platform


def _check(probe: Callable[[], object]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
    except PlatformError as exc:
        return {"ok": False, "error": exc.code}
    except Exception as exc:  # noqa: BLE001 - a failing dependency is an answer here, not an error
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _broker_ping(p: Platform) -> None:
    from tasks.app import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=1)


def _mem0_ping(p: Platform) -> None:
    if not p.mem0_loaded:
        raise RuntimeError("Mem0 is still loading")
    p.mem0.ping()


def check_dependencies(p: Platform) -> dict[str, dict[str, Any]]:
    """Mem0 (L4), Redis (L1/L2/watermarks), PostgreSQL (L3) and the Celery broker."""
    return {
        "mem0": _check(lambda: _mem0_ping(p)),
        "redis": _check(p.redis.ping),
        "l3_database": _check(p.l3.ping),
        "broker": _check(lambda: _broker_ping(p)),
    }
