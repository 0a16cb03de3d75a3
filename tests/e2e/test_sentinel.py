"""An HA broker: hand-offs, a worker and RedBeat through Redis Sentinel, across a failover of the master.

A Redis master, one replica and three Sentinels on loopback (tests/support/sentinel.py), a real
prefork worker and a real beat with ``MEMCACHE_BROKER_URL=sentinel://…`` (results through the
Sentinels too), and writes through this process's real write path (a Platform whose task queue is
configured by config/celeryconfig.py for those URLs). The master is SIGKILLed while writes go on.
Replication is asynchronous, so a hand-off accepted just before the kill may be lost with the master:
the outbox or the sweep must heal it. Nothing is mocked.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest

from config.settings import Settings
from memcache_platform.clients.task_queue import TaskQueue
from memcache_platform.wiring import Platform
from tests.support.sentinel import MASTER_NAME, SentinelSet
from tests.support.workers import BeatProcess, WorkerProcess, producer_for, wait_for_pongs

pytestmark = pytest.mark.integration
BEAT_LOCK, BEAT_STATICS = "redbeat::lock", "redbeat::statics"


@pytest.fixture
def sentinels(tmp_path):
    servers = SentinelSet(tmp_path / "sentinel")
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture
def sentinel_env(sentinels):
    return {
        "MEMCACHE_BROKER_URL": sentinels.broker_url(1),
        "MEMCACHE_RESULT_BACKEND": sentinels.broker_url(2),
        "MEMCACHE_BROKER_SENTINEL_MASTER": MASTER_NAME,
    }


@pytest.fixture
def worker(tmp_path, sentinel_env, platform):
    process = WorkerProcess("sentinel", tmp_path / "worker.log", sentinel_env).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def beat(tmp_path, sentinel_env):
    process = BeatProcess("beat", tmp_path / "beat.log", sentinel_env).start()
    try:
        yield process.proc, process.log_path
    finally:
        process.stop()


@pytest.fixture
def ha(platform, sentinel_env):
    """A Platform of this process whose hand-offs go to the Sentinel broker (Mem0 shared with the session)."""
    settings = Settings(
        broker_url=sentinel_env["MEMCACHE_BROKER_URL"],
        result_backend=sentinel_env["MEMCACHE_RESULT_BACKEND"],
        broker_sentinel_master=MASTER_NAME,
    )
    app = producer_for(settings)
    return Platform(settings, task_queue=TaskQueue(app), mem0=platform.mem0), app


def _current(ha_platform: Platform, users: list[str]) -> list[str]:
    """Users whose L3 build is not from their latest watermark (empty: all current)."""
    states = ha_platform.l3.build_states(users)
    marks = ha_platform.watermarks.current_many(users)
    return [u for u in users if u not in states or states[u].built_from_watermark != marks[u]]


class Writer(threading.Thread):
    """Writes a distinct favourite for one user after another until stopped; records each hand-off."""

    def __init__(self, ha_platform: Platform, users: list[str]) -> None:
        super().__init__(daemon=True)
        self.ha, self.users = ha_platform, users
        self.accepted: list[tuple[str, str, str]] = []  # (user, item, hand-off outcome)
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            user, item = self.users[n % len(self.users)], f"fruit{n}z"
            try:
                result = self.ha.extraction.extract_facts(
                    user, [{"role": "user", "content": f"I love {item}"}]
                )
                self.accepted.append((user, item, result.handoff.handoff if result.handoff else "none"))
            except BaseException as exc:  # noqa: BLE001 - any failed write fails the test
                self.errors.append(exc)
            time.sleep(0.1)


def test_failover_of_the_broker_master(sentinels, worker, beat, ha, wait_for, no_sweep_running):
    ha_platform, app = ha
    tag = f"{os.getpid()}-{time.time_ns()}"
    assert wait_for_pongs(app, ["sentinel"]), worker.log()
    master = sentinels.master_port()

    # Before: hand-offs through the Sentinels reach the worker; beat holds its lock on that master.
    before = [f"sent-before-{tag}-{i}" for i in range(4)]
    for user in before:
        result = ha_platform.extraction.extract_facts(user, [{"role": "user", "content": "I love tea"}])
        assert result.handoff.handoff == "queued", result
    assert wait_for(lambda: not _current(ha_platform, before), timeout=180), worker.log()
    beat_db = sentinels.client(master, db=3)
    proc, beat_log = beat
    assert wait_for(lambda: beat_db.exists(BEAT_LOCK, BEAT_STATICS) == 2, timeout=60), beat_log.read_text()

    # Around the failover: writes never stop; the master is SIGKILLed under them.
    around = [f"sent-around-{tag}-{i}" for i in range(6)]
    writer = Writer(ha_platform, around)
    writer.start()
    time.sleep(2)
    killed_at = time.monotonic()
    old = sentinels.kill_master()
    new = sentinels.wait_for_failover(old)
    promoted_s = time.monotonic() - killed_at
    time.sleep(3)
    writer.stop.set()
    writer.join(30)
    assert not writer.errors, writer.errors[:3]
    outcomes = Counter(outcome for _, _, outcome in writer.accepted)
    print(f"\nfailover: replica promoted {promoted_s:.1f} s after the kill; hand-offs around it: {outcomes}")

    # Hand-offs resume: the outbox drains, and fresh users' hand-offs are queued and run, no sweep.
    outbox = ha_platform.handoff.outbox
    assert wait_for(lambda: len(outbox) == 0, timeout=60), f"outbox still holds {len(outbox)}"
    after = [f"sent-after-{tag}-{i}" for i in range(4)]
    for user in after:
        result = ha_platform.extraction.extract_facts(user, [{"role": "user", "content": "I love coffee"}])
        assert result.handoff.handoff == "queued", result
    resumed = time.monotonic()
    assert wait_for(lambda: not _current(ha_platform, after), timeout=120), worker.log()
    print(f"hand-offs after the failover rebuilt within {time.monotonic() - resumed:.1f} s")

    # RedBeat followed the failover: its lock and schedule are on the promoted master, beat still runs.
    new_db = sentinels.client(new, db=3)
    assert wait_for(lambda: new_db.exists(BEAT_LOCK, BEAT_STATICS) == 2, timeout=60), beat_log.read_text()
    assert proc.poll() is None, beat_log.read_text()[-3000:]

    # Nothing lost after a sweep (through the Sentinels as well): every accepted write is in L3.
    everyone = before + around + after
    for _ in range(5):
        sweep_id = ha_platform.task_queue.enqueue_sweep()
        assert wait_for(
            lambda sid=sweep_id: "finished_at" in ha_platform.sweep_progress.read(sid), timeout=180
        )
        if "superseded_by" not in ha_platform.sweep_progress.read(sweep_id):
            break
        assert wait_for(lambda: not ha_platform.redis.exists("mc:sweep-running"), timeout=120)
    assert not _current(ha_platform, everyone), worker.log()
    for user, item, _ in writer.accepted:
        assert any(item in fact.memory for fact in ha_platform.l3.facts(user)), (user, item)
