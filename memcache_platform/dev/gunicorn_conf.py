"""gunicorn settings for the ``web`` process (``gunicorn -c python:memcache_platform.dev.gunicorn_conf``).

Override with ``GUNICORN_CMD_ARGS`` (for example ``--bind 0.0.0.0:8000 --workers 4``).
"""

import logging
import os

bind = os.environ.get("MEMCACHE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MEMCACHE_WEB_WORKERS", "2"))
threads = 4
timeout = 60  # a data request that arrives during the worker's Mem0 build (≈10 s) waits for it
accesslog = "-"
control_socket_disable = True  # gunicorn 27 would create ~/.gunicorn/gunicorn.ctl otherwise


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Build Mem0 in each worker after the fork (never in the master: see shared/MEM0-NOTES.md).

    The workers of the first start build in a background thread: they accept requests at once,
    /readyz answers 503 "starting" during the build (≈10-18 s) and data requests wait for it
    (``Platform.mem0`` holds a lock). A replacement of a worker that died builds before it accepts
    anything: the other workers, already built, keep serving every request meanwhile, where a
    replacement accepting at once would make every request it takes wait for its build (the soak
    saw 15-27 s).
    """
    from memcache_platform.wiring import get_platform

    if worker.age > worker.cfg.workers:  # gunicorn numbers its workers 1, 2, …: a replacement
        get_platform().mem0  # noqa: B018 - builds it
    else:
        get_platform().start_mem0_build()


def child_exit(server, worker) -> None:  # type: ignore[no-untyped-def]
    """Multiprocess mode: mark a dead worker's metric files, so its live gauges are no longer counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker) -> None:  # type: ignore[no-untyped-def]
    """gunicorn's own error log gets the same redaction of passwords in URLs."""
    from config.logging import install_redaction

    install_redaction(logging.getLogger("gunicorn.error"))
