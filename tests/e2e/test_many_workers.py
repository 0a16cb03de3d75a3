"""Three workers with their own node names share the queues; one SIGKILLed mid-sweep costs no user.

Real prefork workers (``worker-a@%h``, ``worker-b@%h``, ``worker-c@%h``) as subprocesses on a broker
Redis of this test's own (so the session's in-process worker takes none of the tasks), the session's
cache Redis, PostgreSQL and Mem0. A sweep over 150 users fans out 15 chunks; once worker-c runs one,
the whole of worker-c (main process and child) is SIGKILLed. Nothing is mocked.

Its unacked chunk (``acks_late``) waits in the broker's unacked set until it is older than the
visibility timeout, then a live worker puts it back on the queue (kombu's restore, every 10 s with
``unacked_restore_throttle=1``). Production uses 300 s (``MEMCACHE_BROKER_VISIBILITY_TIMEOUT_S``,
above the 60 s retry countdowns); this test sets 20 s and a 5 s rebuild lock, so that the dead
child's lock has lapsed when its chunk comes back (the platform's 30 s lock is below 300 s too).
"""

from __future__ import annotations

import json
import os
import time

import pytest
import redis
import requests

from memcache_platform import task_names
from memcache_platform.dev.servers import RedisServer, free_port
from tests.support.workers import FlowerProcess, WorkerProcess, producer, wait_for_pongs

pytestmark = pytest.mark.integration
NAMES = ["worker-a", "worker-b", "worker-c"]
USERS, CHUNK = 150, 10
VISIBILITY_S = 20
RESTORE_EVERY_S = 10  # kombu's unacked_restore_interval
SLACK_S = 30  # two busy cores shared with other engineers' runs
FLOWER_AUTH = ("admin", "s3cret")


@pytest.fixture
def broker(tmp_path):
    server = RedisServer(tmp_path / "broker").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workers(tmp_path, broker, platform):
    env = {
        "MEMCACHE_BROKER_URL": broker.url.replace("/0", "/1"),
        "MEMCACHE_RESULT_BACKEND": broker.url.replace("/0", "/2"),
        "MEMCACHE_BROKER_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S),
        "MEMCACHE_REBUILD_LOCK_TTL_S": "5",
        "MEMCACHE_SWEEP_CHUNK_SIZE": str(CHUNK),
        "MEMCACHE_SWEEP_RATE_LIMIT": "",
    }
    started = [WorkerProcess(name, tmp_path / f"{name}.log", env).start() for name in NAMES]
    try:
        yield {w.name: w for w in started}, env
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture
def flower(tmp_path, workers):
    _, env = workers
    auth = {"FLOWER_BASIC_AUTH": ":".join(FLOWER_AUTH)}
    process = FlowerProcess("flower", tmp_path / "flower.log", env | auth, port=free_port()).start()
    try:
        yield f"http://127.0.0.1:{process.port}"
    finally:
        process.stop()


def _chunk_metas(backend: redis.Redis) -> dict[str, dict]:
    """Every chunk task the result backend knows: id -> meta (status, worker, result)."""
    metas = {}
    for key in backend.scan_iter("celery-task-meta-*", count=1000):
        raw = backend.get(key)
        meta = json.loads(raw) if raw else {}
        if meta.get("name") == task_names.SWEEP_CHUNK:
            metas[meta["task_id"]] = meta
    return metas


def _ran_on(meta: dict) -> str:
    """The node that ran (STARTED: runs) a task, from its stored meta."""
    if meta["status"] == "STARTED":
        return meta["result"]["hostname"]
    return meta.get("worker") or ""


def _flower_workers(base: str, timeout_s: float = 60.0) -> set[str]:
    deadline = time.monotonic() + timeout_s
    names: set[str] = set()
    while time.monotonic() < deadline and len(names) < len(NAMES):
        try:
            answer = requests.get(f"{base}/api/workers", params={"refresh": 1}, auth=FLOWER_AUTH, timeout=10)
            if answer.status_code == 200:
                names = set(answer.json())
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return names


def test_sweep_survives_a_killed_worker(workers, flower, broker, platform, write, no_sweep_running):
    nodes, env = workers
    users = [f"many-{os.getpid()}-{time.time_ns()}-{i}" for i in range(USERS)]
    for user in users:
        write(user, f"My favourite number is {user[-3:]}. I'm good at chess")
    app = producer(env["MEMCACHE_BROKER_URL"], env["MEMCACHE_RESULT_BACKEND"])
    pongs = wait_for_pongs(app, NAMES)
    assert len(pongs) == 3, {name: w.log() for name, w in nodes.items()}
    seen_by_flower = _flower_workers(flower)
    assert {name.split("@")[0] for name in seen_by_flower} == set(NAMES), seen_by_flower
    backend = redis.Redis.from_url(env["MEMCACHE_RESULT_BACKEND"])

    sent_at = time.monotonic()
    sweep_id = app.send_task(task_names.SWEEP).id
    victim, killed_at, killed_chunk = nodes["worker-c"], None, None
    redelivered_at, finished = None, {}
    deadline = sent_at + 300
    while time.monotonic() < deadline:
        metas = _chunk_metas(backend)
        if killed_chunk is None:
            on_c = [tid for tid, m in metas.items() if m["status"] == "STARTED" and "worker-c@" in _ran_on(m)]
            if on_c:
                victim.sigkill()
                killed_at, killed_chunk = time.monotonic(), on_c[0]
        elif redelivered_at is None and "worker-c@" not in _ran_on(metas.get(killed_chunk, {"status": ""})):
            redelivered_at = time.monotonic()
        finished = platform.sweep_progress.read(sweep_id)
        if "finished_at" in finished:
            break
        time.sleep(0.05)
    assert "superseded_by" not in finished, finished
    assert killed_chunk is not None, f"worker-c never ran a chunk: {victim.log()}"
    assert "finished_at" in finished, (finished, nodes["worker-a"].log(), nodes["worker-b"].log())
    assert redelivered_at is not None, "the killed chunk never ran again"
    done_at = time.monotonic()
    print(
        f"\nsweep of {finished['total']} users: killed {killed_at - sent_at:.1f} s after sending, chunk back "
        f"{redelivered_at - killed_at:.1f} s after the kill, sweep finished {done_at - sent_at:.1f} s after "
        f"sending (visibility timeout {VISIBILITY_S} s)"
    )

    # The dead worker's chunk came back no earlier than the visibility timeout allows (it was
    # delivered after the sweep was sent), and no later than one restore scan after it.
    assert redelivered_at - sent_at >= VISIBILITY_S
    assert redelivered_at - killed_at <= VISIBILITY_S + RESTORE_EVERY_S + SLACK_S
    assert done_at - killed_at <= VISIBILITY_S + RESTORE_EVERY_S + 2 * SLACK_S

    # Chunks ran on every node: worker-c started one, the two survivors finished the rest and its own.
    metas = _chunk_metas(backend)
    assert all(m["status"] == "SUCCESS" for m in metas.values()), metas
    by_node = {}
    for meta in metas.values():
        by_node.setdefault(meta["worker"].split("@")[0], []).append(meta)
    assert {"worker-a", "worker-b"} <= set(by_node), by_node.keys()
    assert "worker-c" not in _ran_on(metas[killed_chunk])

    # No user lost: every one is in a chunk's result and L3 holds a build from its latest watermark.
    kinds = ("rebuilt", "current", "coalesced")
    handled = {user for meta in metas.values() for kind in kinds for user in meta["result"][kind]}
    assert set(users) <= handled, sorted(set(users) - handled)[:5]
    states = platform.l3.build_states(users)
    marks = platform.watermarks.current_many(users)
    stale = [u for u in users if u not in states or states[u].built_from_watermark != marks[u]]
    assert not stale, stale[:5]
