"""A worker child killed with SIGKILL in the middle of a rebuild: nothing half-written, and it runs again."""

import os
import signal
import subprocess
import time

import psutil
import pytest

from memcache_platform.tiers.hot_queries import QuerySpec
from tasks import update_user_favorite_cache
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.integration
QUEUE = "killtest"  # a queue only this test's worker reads, so the session worker cannot take the task
HOT = 60  # hot queries to warm: makes the rebuild last long enough to be killed in the middle


@pytest.fixture
def prefork_worker(tmp_path, platform):
    # The default rebuild lock TTL (30 s): the redelivered task must not wait for its dead run's lock.
    env = {"MEMCACHE_HOT_QUERIES_TOP_N": str(HOT)}
    worker = WorkerProcess(f"kill{os.getpid()}", tmp_path / "worker.log", env, queues=QUEUE).start()
    try:
        yield worker.proc, worker.log_path
    finally:
        worker.stop()


def _child(proc: subprocess.Popen) -> psutil.Process:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = psutil.Process(proc.pid).children()
        if children:
            return children[0]
        time.sleep(0.2)
    pytest.fail("the worker started no child")


def test_sigkill_mid_rebuild(prefork_worker, platform, user_id, write):
    proc, log_path = prefork_worker
    write(user_id, "My favourite food is pho. I'm good at Python")
    for i in range(HOT):
        platform.hot_queries.record(user_id, QuerySpec(f"question number {i} about food", 3))
    platform.proactive_cache.rebuild_now(user_id)  # a complete build and generation to compare with
    before_l3, before_l2 = platform.l3.get(user_id), platform.l2.state(user_id)
    write(user_id, "I love ramen")

    result = update_user_favorite_cache.apply_async(args=[user_id], kwargs={"force": True}, queue=QUEUE)
    child = _child(proc)
    deadline = time.monotonic() + 90
    while result.state != "STARTED":  # the child builds Mem0 first, then takes the task
        assert time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the warming of 60 hot queries
    child.send_signal(signal.SIGKILL)

    # Nothing half-done: L3 is the old build or a whole new one; L2's generation moved whole or not at all.
    l3 = platform.l3.get(user_id)
    assert len(platform.l3.facts(user_id)) == l3.summary.memory_count
    assert l3.built_from_watermark in (before_l3.built_from_watermark, platform.watermarks.current(user_id))
    l2 = platform.l2.state(user_id)
    whole = {before_l2.generation: platform.settings.hot_queries_top_n, before_l2.generation + 1: HOT}
    assert platform.l2.count(user_id, l2.generation) == whole[l2.generation]

    # acks_late + task_reject_on_worker_lost: the message goes back, a new child runs the rebuild again,
    # taking over the lock its dead run held under the same task id: no "coalesced" retry, no wait
    # for the lock's 30 s TTL.
    killed_at = time.monotonic()
    final = result.get(timeout=120)
    assert final["outcome"] == "rebuilt", final
    assert result.retries == 0, final
    assert time.monotonic() - killed_at < platform.settings.rebuild_lock_ttl_s, final
    succeeded = f"Task tasks.update_user_favorite_cache[{result.id}] succeeded"
    deadline = time.monotonic() + 10  # the child logs its success just after storing the result
    while succeeded not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = log_path.read_text()
    assert f"pid:{child.pid} exited with 'signal 9 (SIGKILL)'" in log, log[-3000:]
    # Redelivered once: the first delivery and the one after the kill.
    received = log.count(f"Task tasks.update_user_favorite_cache[{result.id}] received")
    assert received == 2, (received, log[-3000:])
    assert log.count(succeeded) == 1, log[-3000:]
    after = platform.l3.get(user_id)
    assert after.built_from_watermark == platform.watermarks.current(user_id)
    assert after.summary.favorites == {"food": ["pho"], "general": ["ramen"]}
    assert platform.l2.state(user_id).generation_built_from == platform.watermarks.current(user_id)
