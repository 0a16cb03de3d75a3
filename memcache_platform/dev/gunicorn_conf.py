"""gunicorn settings for the ``web`` process (``gunicorn -c python:memcache_platform.dev.gunicorn_conf``).

Override with ``GUNICORN_CMD_ARGS`` (for example ``--bind 0.0.0.0:8000 --workers 4``).
"""

import logging
import os

bind = os.environ.get("MEMCACHE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MEMCACHE_WEB_WORKERS", "2"))
threads = 4
timeout = 60  # first request of a worker waits for Mem0 (≈10 s) only if it was not warmed yet
accesslog = "-"
control_socket_disable = True  # gunicorn 27 would create ~/.gunicorn/gunicorn.ctl otherwise


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Build Mem0 in each worker after the fork (never in the master: see shared/MEM0-NOTES.md)."""
    from memcache_platform.wiring import get_platform

    get_platform().mem0  # noqa: B018 - builds it


def child_exit(server, worker) -> None:  # type: ignore[no-untyped-def]
    """Multiprocess mode: mark a dead worker's metric files, so its live gauges are no longer counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker) -> None:  # type: ignore[no-untyped-def]
    """gunicorn's own error log gets the same redaction of passwords in URLs."""
    from config.logging import install_redaction

    install_redaction(logging.getLogger("gunicorn.error"))
