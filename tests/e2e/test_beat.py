"""Two real beats (``celery -A tasks beat``) at once: RedBeat's lock lets one schedule, the other waits.

Both run as subprocesses against the session's Redis, with a 2 s sweep interval; the session worker
executes the sweeps they send, and each sweep leaves its progress hash ``mc:sweep:<task id>``. Once the
scheduling beat is killed (SIGKILL: it cannot release its lock), the other takes over when the lock
times out (``MEMCACHE_REDBEAT_LOCK_TIMEOUT_S``, 5 s here instead of 55 s) and its next try to take it:
a waiting beat retries every ``beat_max_loop_interval`` (10 s), so the takeover needs up to 5 + 10 s.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
INTERVAL_S = 2
WINDOW_S = 12
LOCK_TIMEOUT_S = 5
SENT = "Sending due task"


class Beat:
    def __init__(self, name: str, log_path: Path):
        self.name = name
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "beat", "--loglevel=INFO"],
            cwd=ROOT,
            env=os.environ
            | {
                "MEMCACHE_SWEEP_INTERVAL_S": str(INTERVAL_S),
                "MEMCACHE_REDBEAT_LOCK_TIMEOUT_S": str(LOCK_TIMEOUT_S),
            },
            stdin=subprocess.DEVNULL,
            stdout=self.log,  # a file, not a pipe: an unread pipe would fill and stall beat
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sent(self) -> int:
        return self.text().count(SENT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean stop releases the lock, if held
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def _wait(probe, timeout: float, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture
def clients(redis_server):  # type: ignore[no-untyped-def]
    server = redis_server.url.rsplit("/", 1)[0]  # the data in db 0, the broker in db 1, RedBeat in db 3
    data, broker, redbeat = (redis.Redis.from_url(f"{server}/{db}") for db in (0, 1, 3))
    yield data, broker, redbeat
    for client in (data, broker, redbeat):
        client.close()


def test_two_beats_schedule_once_and_the_survivor_takes_over(clients, celery_worker, tmp_path):
    data, broker, redbeat = clients

    def sweeps() -> set[bytes]:
        return set(data.scan_iter("mc:sweep:*", count=1000))

    # State of an earlier beat (a held lock, a last run) must not change what this test sees.
    for key in redbeat.scan_iter("redbeat:*"):
        redbeat.delete(key)
    before = sweeps()
    beats: list[Beat] = []

    def logs() -> str:
        return "\n".join(f"--- beat {b.name} ---\n{b.text()[-3000:]}" for b in beats)

    try:
        for name in ("a", "b"):
            beats.append(Beat(name, tmp_path / f"beat-{name}.log"))
        # Count over a window that starts with the first sweep, not with the beats' start-up.
        assert _wait(lambda: sweeps() - before, timeout=30), f"no sweep ran:\n{logs()}"
        start = sweeps()
        time.sleep(WINDOW_S)
        count = len(sweeps() - start)
        # One scheduler: ~WINDOW_S / INTERVAL_S sweeps; two uncoordinated ones would make ~twice as many.
        assert 2 <= count <= WINDOW_S / INTERVAL_S + 2, f"{count} sweeps in {WINDOW_S} s:\n{logs()}"

        senders = [b for b in beats if b.sent()]
        assert len(senders) == 1, f"not exactly one beat sent tasks:\n{logs()}"
        active, standby = senders[0], next(b for b in beats if b is not senders[0])
        assert "beat: Acquired lock" in active.text()
        assert "beat: Acquired lock" not in standby.text()
        assert standby.proc.poll() is None, f"the waiting beat exited:\n{logs()}"
        assert 0 < redbeat.pttl("redbeat::lock") <= LOCK_TIMEOUT_S * 1000

        # A dead beat keeps its lock until it times out; then the waiting one takes over.
        active.proc.send_signal(signal.SIGKILL)
        active.proc.wait(10)
        killed_at = time.monotonic()
        assert _wait(standby.sent, timeout=20), f"no takeover within 20 s of the kill:\n{logs()}"
        takeover_s = time.monotonic() - killed_at
        assert "beat: Acquired lock" in standby.text()
        after_takeover = sweeps()
        assert _wait(lambda: sweeps() - after_takeover, timeout=3 * INTERVAL_S + 5), (
            f"no sweep ran after the takeover ({takeover_s:.1f} s after the kill):\n{logs()}"
        )
    finally:  # never leave a beat behind, whatever failed
        for beat in beats:
            beat.stop()
        # Let the worker run the sweeps still queued, so later tests do not meet them, and forget the
        # 2 s schedule and the lock.
        _wait(lambda: broker.llen("sweep") == 0, timeout=10)
        for key in redbeat.scan_iter("redbeat:*"):
            redbeat.delete(key)
