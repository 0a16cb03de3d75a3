"""``/healthz`` (the process answers) and ``/readyz`` (each dependency, without secrets)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import Health, Readiness
from memcache_platform.services.readiness import STARTING, check_dependencies

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@operation("Liveness", {200: Answer(Health, "alive")}, security=(), tags=("meta",))
def healthz() -> Response:
    """Liveness: the process serves requests."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@operation(
    "Readiness per dependency",
    {200: Answer(Readiness, "ready (status ok or degraded)"), 503: Answer(Readiness, "not ready")},
    security=(),
    tags=("meta",),
)
def readyz() -> tuple[Response, int]:
    """Readiness: 200 while Mem0 (L4, the only hard dependency) works; caches may be degraded.

    503 ``starting`` at once while this process still builds Mem0; bounded in time whatever hangs.
    """
    checks: dict[str, Any] = check_dependencies(platform())
    ready = checks["mem0"]["ok"]
    degraded = not all(c["ok"] for c in checks.values())
    if checks["mem0"].get("error") == STARTING:
        status = "starting"
    else:
        status = "ok" if not degraded else ("degraded" if ready else "unavailable")
    return jsonify({"status": status, "checks": checks}), 200 if ready else 503
