"""The faults of issue 10, injected with real signals on a ``ProcessTree`` (K1, the soak).

Each fault returns when it is over (the server is back, the signal sent); the supervisor or the
process's own parent is left to heal what was killed. Copied in spirit from
tests/e2e/test_process_tree_faults.py, which owns the assertions; this module only injects.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the scenario at run time, so bench/ imports without it
    from memcache_platform.dev.process_tree import ProcessTree

REDIS_DOWN_S = 1.0  # SIGKILLed Redis stays down this long before it starts again, empty
REDIS_HANG_S = 10.0  # SIGSTOP ... SIGCONT
PG_DOWN_S = 5.0  # PostgreSQL fast shutdown ... start


def redis_kill_restart(tree: ProcessTree) -> None:
    """SIGKILL Redis and start it again on the same port, empty (no persistence)."""
    assert tree.redis.process is not None
    tree.redis.process.send_signal(signal.SIGKILL)
    tree.redis.process.wait(10)
    time.sleep(REDIS_DOWN_S)
    tree.redis.start()


def redis_stop_cont(tree: ProcessTree) -> None:
    """Redis hangs: SIGSTOP, then SIGCONT after ``REDIS_HANG_S``."""
    assert tree.redis.process is not None
    tree.redis.process.send_signal(signal.SIGSTOP)
    try:
        time.sleep(REDIS_HANG_S)
    finally:
        tree.redis.process.send_signal(signal.SIGCONT)


def pg_restart(tree: ProcessTree) -> None:
    """PostgreSQL fast shutdown, then start (L3 and Mem0's table both live there)."""
    tree.pg.stop()
    try:
        time.sleep(PG_DOWN_S)
    finally:
        tree.pg.start()


def worker_child_kill(tree: ProcessTree) -> None:
    """SIGKILL one prefork child of the Celery worker; the pool replaces it."""
    children = tree.main_process("worker.1").children()
    if not children:
        raise RuntimeError("the Celery worker has no pool children")
    children[0].send_signal(signal.SIGKILL)


def beat_kill(tree: ProcessTree) -> None:
    """SIGKILL beat; the supervisor restarts it (the one restart a fault causes on purpose)."""
    tree.main_process("beat.1").send_signal(signal.SIGKILL)


def web_worker_kill(tree: ProcessTree) -> None:
    """SIGKILL one gunicorn worker; the gunicorn master replaces it."""
    children = tree.main_process("web.1").children()
    if not children:
        raise RuntimeError("gunicorn has no workers")
    children[0].send_signal(signal.SIGKILL)


FAULTS: dict[str, Callable[[ProcessTree], None]] = {
    "redis SIGKILL + restart empty": redis_kill_restart,
    "redis SIGSTOP 10 s": redis_stop_cont,
    "postgres fast restart": pg_restart,
    "worker child SIGKILL": worker_child_kill,
    "beat SIGKILL": beat_kill,
    "web worker SIGKILL": web_worker_kill,
}
# Supervisor restarts a fault causes on purpose: the Procfile process it kills, if any.
EXPECTED_RESTART = {"beat SIGKILL": "beat.1"}
PG_OUTAGE = "postgres fast restart"
