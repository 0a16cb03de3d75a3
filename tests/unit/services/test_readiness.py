"""Readiness stays bounded in time when checks hang: fake checks that block on an Event, no servers."""

import threading
import time
from types import SimpleNamespace

import redis

from memcache_platform.services.readiness import STARTING, Readiness


def _platform(*, mem0_loaded: bool = True) -> SimpleNamespace:
    # Only what Readiness reads besides its checks: whether Mem0 is loaded, and the Redis client
    # (a never-connected plain one: no breaker to report).
    return SimpleNamespace(mem0_loaded=mem0_loaded, redis=redis.Redis())


class Hang:
    """A check that blocks until released, counting how often it was started."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0

    def __call__(self) -> None:
        self.started += 1
        self.release.wait(10)


def test_hung_checks_are_reported_as_timeout_within_the_deadline():
    hang = Hang()
    checks = {"mem0": lambda: None, "redis": hang, "l3_database": lambda: None, "broker": hang}
    readiness = Readiness(_platform(), 0.3, checks=checks)
    try:
        started = time.perf_counter()
        results = readiness.run()
        elapsed = time.perf_counter() - started
        assert elapsed < 0.6  # the checks ran in parallel: two hung ones cost one deadline, not two
        assert results["redis"] == {"ok": False, "error": "timeout"}
        assert results["broker"] == {"ok": False, "error": "timeout"}
        assert results["mem0"]["ok"] and results["l3_database"]["ok"]
    finally:
        hang.release.set()


def test_a_check_still_running_is_not_started_again():
    hang = Hang()
    checks = {"mem0": lambda: None, "redis": hang, "l3_database": lambda: None, "broker": lambda: None}
    readiness = Readiness(_platform(), 0.1, checks=checks)
    try:
        for _ in range(5):
            assert readiness.run()["redis"]["error"] == "timeout"
        assert hang.started == 1  # a probe every second never piles up threads on a hung Redis
    finally:
        hang.release.set()
    time.sleep(0.05)
    assert readiness.run()["redis"]["ok"]  # returned: checked afresh


def test_mem0_still_loading_is_starting_without_calling_its_check():
    called = []
    checks = {
        "mem0": lambda: called.append("mem0"),
        "redis": lambda: None,
        "l3_database": lambda: None,
        "broker": lambda: None,
    }
    results = Readiness(_platform(mem0_loaded=False), 0.3, checks=checks).run()
    assert results["mem0"] == {"ok": False, "error": STARTING}
    assert called == []
    assert list(results) == ["mem0", "redis", "l3_database", "broker"]
