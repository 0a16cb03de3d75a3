"""``GET /metrics``: the Prometheus metrics of ``memcache_platform.metrics``, in the text format.

No API key: Prometheus scrapes it. It exposes only counters and histograms (by outcome, tier,
endpoint, operation) and prometheus-client's process/platform/GC metrics, never settings, URLs,
keys or user data.

Two modes:

* Single process (``PROMETHEUS_MULTIPROC_DIR`` unset: ``flask run``, tests): the process's
  default ``REGISTRY``, i.e. what this process counted.
* Multiprocess (``PROMETHEUS_MULTIPROC_DIR`` set, as ``make run`` does for gunicorn workers and
  Celery prefork children): every process writes its values to ``*.db`` files in that directory,
  and each request builds a fresh ``CollectorRegistry`` with a ``MultiProcessCollector`` that sums
  them, so any worker answers for all processes, the API and Celery alike. The directory must be
  emptied before the processes start (``make run`` does), and gunicorn's ``child_exit`` hook marks
  dead workers (``memcache_platform.dev.gunicorn_conf``). Per-process metrics (CPU, memory, GC)
  are not exported in this mode.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from memcache_platform.api.contract import Answer, operation

bp = Blueprint("metrics", __name__)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Per request, as prometheus-client recommends: the collector reads the directory when collected.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


@bp.get("/metrics")
@operation(
    "Prometheus metrics",
    {200: Answer(description="metrics in the text exposition format", media_type="text/plain")},
    security=(),
    tags=("meta",),
)
def metrics() -> Response:
    """The metrics in the Prometheus text exposition format."""
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
