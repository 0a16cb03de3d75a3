"""The Redis circuit breaker's state machine, with a fake clock and fake probes (no Redis needed)."""

import threading
import time

import pytest
import redis
from prometheus_client import REGISTRY

from memcache_platform.tiers.circuit_breaker import CircuitBreaker, CircuitOpen, breaker_for, server_name


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Probe:
    """A PING that fails until told to answer."""

    def __init__(self) -> None:
        self.answers = False
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.answers:
            raise redis.TimeoutError("still hung")


def _breaker(name: str, clock: Clock, probe: Probe) -> CircuitBreaker:
    return CircuitBreaker(name, probe, open_s=2.0, probe_interval_s=0.5, clock=clock, background=False)


def _sample(metric: str, name: str) -> float | None:
    return REGISTRY.get_sample_value(metric, {"server": name})


def test_closed_until_a_failure_then_fails_fast_with_a_connection_error():
    breaker = _breaker("unit-a", Clock(), Probe())
    breaker.check()  # closed: nothing raised
    breaker.record_failure(redis.TimeoutError("read timeout"))
    assert breaker.is_open
    with pytest.raises(CircuitOpen) as caught:
        breaker.check()
    assert isinstance(caught.value, redis.ConnectionError)  # callers' "Redis unavailable" path
    assert _sample("memcache_redis_breaker_open", "unit-a") == 1


def test_a_second_failure_while_open_is_not_a_second_trip():
    breaker = _breaker("unit-b", Clock(), Probe())
    breaker.record_failure(redis.ConnectionError("refused"))
    breaker.record_failure(redis.ConnectionError("refused"))
    assert _sample("memcache_redis_breaker_trips_total", "unit-b") == 1


def test_no_probe_before_open_s_then_closes_on_the_first_answer():
    clock, probe = Clock(), Probe()
    breaker = _breaker("unit-c", clock, probe)
    breaker.record_failure(redis.TimeoutError("read timeout"))
    clock.now += 1.9
    assert breaker.probe_once() is False
    assert probe.calls == 0  # skipped for open_s: not even a probe
    clock.now += 0.2
    assert breaker.probe_once() is False  # probed, still hung
    assert (probe.calls, breaker.is_open) == (1, True)
    probe.answers = True
    assert breaker.probe_once() is True
    assert not breaker.is_open
    breaker.check()
    assert _sample("memcache_redis_breaker_open", "unit-c") == 0


@pytest.mark.parametrize(
    ("error", "trips"),
    [
        (redis.TimeoutError("read timeout"), True),
        (redis.ConnectionError("refused"), True),
        (redis.AuthenticationError("bad password"), False),  # the server answered
        (redis.ResponseError("WRONGTYPE"), False),
        (CircuitOpen("already open"), False),
    ],
)
def test_watch_trips_on_timeouts_and_refusals_only(error, trips):
    breaker = _breaker(f"unit-watch-{type(error).__name__}", Clock(), Probe())
    with pytest.raises(type(error)), breaker.watch():
        raise error
    assert breaker.is_open is trips


def test_background_prober_closes_the_breaker_when_redis_answers():
    probe = Probe()
    breaker = CircuitBreaker("unit-d", probe, open_s=0.05, probe_interval_s=0.02)
    breaker.record_failure(redis.TimeoutError("read timeout"))
    prober = next(t for t in threading.enumerate() if t.name == "redis-breaker-unit-d")
    time.sleep(0.2)
    assert breaker.is_open and probe.calls >= 2  # probing, Redis still away
    probe.answers = True
    deadline = time.monotonic() + 2
    while breaker.is_open and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not breaker.is_open
    prober.join(1)
    assert not prober.is_alive()  # a closed breaker stops probing


def test_a_forked_child_starts_closed():
    breaker = _breaker("unit-e", Clock(), Probe())
    breaker.record_failure(redis.TimeoutError("read timeout"))
    breaker.reset_after_fork()
    breaker.check()


def test_one_breaker_per_server_whatever_the_database():
    assert server_name("redis://10.0.0.5:6380/0") == server_name("redis://10.0.0.5:6380/4") == "10.0.0.5:6380"
    options = {"open_s": 2.0, "probe_interval_s": 0.5, "probe_timeout_s": 0.1}
    cache = breaker_for("redis://127.0.0.1:1/0", **options)
    limiter = breaker_for("redis://127.0.0.1:1/4", **options)
    other = breaker_for("redis://127.0.0.1:2/0", **options)
    assert cache is limiter
    assert other is not cache
