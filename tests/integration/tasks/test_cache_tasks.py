"""``tasks.update_user_favorite_cache`` through the real broker and worker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from config.celeryconfig import task_reject_on_worker_lost
from memcache_platform.dev.tcp_proxy import TcpProxy
from tasks import update_user_favorite_cache

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def test_task_rebuilds_and_reports(platform, celery_worker, user_id, write):
    write(user_id, "I'm good at Python")
    result = update_user_favorite_cache.delay(user_id, force=True).get(timeout=30)
    assert result["user_id"] == user_id
    assert result["memories"] == 1
    assert result["categories"] == {"skill": 1}
    assert result["l3_written"] is True
    assert result["outcome"] == "rebuilt"
    assert platform.l3.get(user_id).summary.top_skills == ["Python"]


def test_task_acks_late_and_is_requeued_when_its_worker_is_lost():
    """The declarations redelivery rests on; tests/e2e/test_worker_killed.py proves the redelivery itself."""
    assert update_user_favorite_cache.acks_late is True
    assert task_reject_on_worker_lost is True
    assert update_user_favorite_cache.name == "tasks.update_user_favorite_cache"


def test_bad_user_id_fails_clearly(celery_worker):
    from memcache_platform.errors import InvalidInput

    with pytest.raises(InvalidInput):
        update_user_favorite_cache.delay("not a valid id").get(timeout=30)


@pytest.fixture
def l3_proxy(postgres_server, platform):
    """A TCP proxy in front of L3's PostgreSQL, dropping every connection until the test lets it pass."""
    proxy = TcpProxy(next(postgres_server.pgdata.parent.rglob(".s.PGSQL.*")))
    proxy.set_mode("drop")
    database = urlsplit(platform.settings.database_url).path.lstrip("/")
    yield proxy, f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}"
    proxy.close()


@pytest.fixture
def l3_down_worker(tmp_path, platform, l3_proxy):
    """A worker process of its own, on a queue of its own, whose L3 goes through ``l3_proxy``.

    The session worker and platform are left alone: only this process sees L3 down. Mem0 (L4)
    keeps its direct address, so only L3 fails.
    """
    proxy, proxied_url = l3_proxy
    queue = f"l3down-{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "MEMCACHE_DATABASE_URL": proxied_url,
        "MEMCACHE_MEM0_DATABASE_URL": platform.settings.effective_mem0_database_url,
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=solo", f"--queues={queue}"]
            + ["--without-gossip", "--without-mingle", "--loglevel=INFO", f"--hostname=l3down@{os.getpid()}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield queue, proxy, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_task_retries_while_l3_is_down_then_succeeds(l3_down_worker, platform, user_id, write):
    queue, proxy, log_path = l3_down_worker
    write(user_id, "I love tea")
    result = update_user_favorite_cache.apply_async(args=[user_id], kwargs={"force": True}, queue=queue)
    deadline = time.monotonic() + 90  # the worker builds Mem0 (about 10 s) before its first try
    while result.state != "RETRY":
        assert result.state in ("PENDING", "STARTED"), (result.state, log_path.read_text()[-3000:])
        assert time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.05)
    retried_on = result.info  # the exception the retry was for, as the result backend stored it
    assert platform.l3.get(user_id) is None  # the failed try wrote nothing
    proxy.set_mode("pass")  # L3 back: a later retry must succeed without anyone sending the task again
    assert result.get(timeout=90)["memories"] == 1
    assert result.retries >= 1
    assert type(retried_on).__name__ == "CacheUnavailable", retried_on  # L3 it was, not something else
    assert "L3" in str(retried_on), retried_on
    assert platform.l3.get(user_id).summary.favorites == {"general": ["tea"]}


def test_the_same_rebuild_delivered_twice_leaves_the_same_state_as_once(
    platform, celery_worker, user_id, write
):
    write(user_id, "My favourite food is pho. I'm good at Python")
    platform.search.search(user_id, "food", limit=3)
    once = update_user_favorite_cache.apply_async(args=[user_id], kwargs={"force": True}).get(timeout=30)
    state_once = (platform.l3.facts(user_id), platform.l3.get(user_id).summary, platform.l2.state(user_id))
    # The same message again, with the same task id, as a redelivery would bring it.
    twice = update_user_favorite_cache.apply_async(
        args=[user_id], kwargs={"force": True}, task_id=f"{once['user_id']}-redelivered"
    )
    again = update_user_favorite_cache.apply_async(
        args=[user_id], kwargs={"force": True}, task_id=f"{once['user_id']}-redelivered"
    )
    assert twice.get(timeout=30)["outcome"] == again.get(timeout=30)["outcome"] == "rebuilt"
    facts, summary, view = (
        platform.l3.facts(user_id),
        platform.l3.get(user_id).summary,
        platform.l2.state(user_id),
    )
    assert (facts, summary) == state_once[:2]
    assert view.generation_built_from == state_once[2].generation_built_from
    assert (
        platform.l2.count(user_id, view.generation)
        == platform.l2.count(user_id, state_once[2].generation)
        == 1
    )
