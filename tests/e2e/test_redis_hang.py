"""Redis hung for real (SIGSTOP of the session's cache Redis): the request path pays no timeouts.

After one timeout the process's circuit breaker opens: reads answer from L4 at L4 speed, writes
go straight to the outbox, the rate limiter falls back to memory without waiting, and /readyz
answers within 1 s. After SIGCONT a background PING closes the breaker and L2 serves again.
"""

import signal
import statistics
import time
import uuid
from contextlib import contextmanager

import pytest

from memcache_platform.api.ratelimit import limiter
from memcache_platform.tiers.redis_client import breaker_of
from tests.conftest import RATE_KEY

pytestmark = pytest.mark.integration
SAMPLES = 7


@pytest.fixture
def breaker(platform):  # type: ignore[no-untyped-def]
    return breaker_of(platform.redis)


@pytest.fixture
def redis_hang(redis_server, platform, breaker, wait_for):  # type: ignore[no-untyped-def]
    """A context manager: Redis SIGSTOPped inside it; on exit SIGCONT, breaker closed, outbox drained."""

    @contextmanager
    def _hang():  # type: ignore[no-untyped-def]
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
            assert wait_for(lambda: not breaker.is_open, timeout=10), "breaker did not close"
            outbox = platform.handoff.outbox
            outbox.retry_now()
            assert wait_for(lambda: len(outbox) == 0, timeout=30), "outbox did not drain"

    return _hang


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def _fresh_searches(client, user_id, auth, label):  # type: ignore[no-untyped-def]
    """Median time of searches that each miss L2 (a new query every time), and their answers."""
    answers, times = [], []
    for i in range(SAMPLES):
        q = f"{label} dish {i} {uuid.uuid4().hex[:6]}"
        response, elapsed = _timed(lambda q=q: client.get(f"/v1/users/{user_id}/search?q={q}", headers=auth))
        answers.append(response)
        times.append(elapsed)
    return statistics.median(times), answers


def _trip(client, user_id, auth, breaker) -> None:  # type: ignore[no-untyped-def]
    """One request pays the one timeout that opens the breaker."""
    client.get(f"/v1/users/{user_id}/search?q=trip", headers=auth)
    assert breaker.is_open


@pytest.fixture
def user_with_memories(write, user_id):  # type: ignore[no-untyped-def]
    for i in range(12):
        write(user_id, f"I love dish number {i}")
    return user_id


def test_readyz_answers_within_a_second_while_redis_hangs(client, redis_hang, breaker):
    with redis_hang():
        timed = [_timed(lambda: client.get("/readyz")) for _ in range(3)]  # the first one trips
    for response, elapsed in timed:
        assert elapsed <= 1.0
        assert response.status_code == 200
        assert response.json["status"] == "degraded"
        assert response.json["checks"]["redis"]["ok"] is False
        assert response.json["checks"]["mem0"]["ok"] is True
    assert timed[-1][0].json["checks"]["redis"]["breaker"] == "open"


def test_reads_answer_from_l4_at_l4_speed_once_the_breaker_opened(
    client, auth, user_with_memories, redis_hang, breaker
):
    user_id = user_with_memories
    healthy, answers = _fresh_searches(client, user_id, auth, "healthy")
    assert {a.json["tier"] for a in answers} == {"L4"}  # L2 bypassed: the L4 time of a search
    with redis_hang():
        _trip(client, user_id, auth, breaker)
        hung, answers = _fresh_searches(client, user_id, auth, "hung")
        favorites = client.get(f"/v1/users/{user_id}/favorites", headers=auth)
    assert {a.status_code for a in answers} == {200}
    assert {(a.json["tier"], a.json["degraded"]) for a in answers} == {("L4", True)}
    assert hung <= healthy + 0.050, f"median {hung * 1000:.0f} ms vs L4 {healthy * 1000:.0f} ms"
    assert (favorites.status_code, favorites.json["tier"], favorites.json["degraded"]) == (200, "L4", True)


def test_writes_go_straight_to_the_outbox_quickly(client, auth, user_id, redis_hang, breaker, platform):
    dishes = iter(range(1000))

    def post():  # type: ignore[no-untyped-def]
        """A new fact each time: a restated one would be a no-op with nothing to hand off."""
        body = {"messages": [{"role": "user", "content": f"I love pho number {next(dishes)}"}]}
        return client.post(f"/v1/users/{user_id}/memories", json=body, headers=auth)

    healthy = statistics.median(_timed(post)[1] for _ in range(3))
    assert len(platform.handoff.outbox) == 0
    with redis_hang():
        _trip(client, user_id, auth, breaker)
        writes = [_timed(post) for _ in range(3)]
    assert [r.status_code for r, _ in writes] == [201, 201, 201]
    # The first write found the outbox empty: its bump failed fast and it skipped the enqueue.
    assert [r.json["cache"]["handoff"] for r, _ in writes] == ["outbox"] * 3
    slowest = max(elapsed for _, elapsed in writes)
    assert slowest <= healthy + 0.050, f"{slowest * 1000:.0f} ms vs healthy {healthy * 1000:.0f} ms"
    assert len(platform.mem0.get_all(user_id=user_id)) == 6  # every write stands in L4


def test_the_rate_limiter_adds_no_timeout_during_a_hang(client, user_with_memories, redis_hang, breaker):
    headers = {"Authorization": f"Bearer {RATE_KEY}"}
    user_id = user_with_memories
    with redis_hang():
        _trip(client, user_id, headers, breaker)
        # Over 2.5 s Flask-Limiter re-checks its dead storage (after 1 s, then 2 s): each re-check
        # is a PING that must fail at once, not after the socket timeout.
        deadline, times, answers = time.monotonic() + 2.5, [], []
        while time.monotonic() < deadline:
            response, elapsed = _timed(
                lambda: client.get(f"/v1/users/{user_id}/search?q=tea", headers=headers)
            )
            answers.append(response)
            times.append(elapsed)
            time.sleep(0.05)
        checks = [_timed(limiter.storage.check) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert all("X-RateLimit-Limit" in a.headers for a in answers)  # still limited, in memory
    assert max(times) < 0.2, f"slowest {max(times) * 1000:.0f} ms: a Redis timeout is 250 ms"
    assert all(ok is False and elapsed < 0.05 for ok, elapsed in checks)


def test_breaker_closes_after_sigcont_and_l2_serves_again(
    client, auth, user_with_memories, redis_server, breaker, platform, wait_for
):
    user_id = user_with_memories
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        _trip(client, user_id, auth, breaker)
        time.sleep(platform.settings.redis_breaker_open_s)  # past open_s: probing every probe_s
        assert breaker.is_open  # probes time out while Redis hangs
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    resumed = time.monotonic()
    assert wait_for(lambda: not breaker.is_open, timeout=10)
    assert time.monotonic() - resumed <= 3 * platform.settings.redis_breaker_probe_s + 0.25
    first = client.get(f"/v1/users/{user_id}/search?q=noodles", headers=auth)
    second = client.get(f"/v1/users/{user_id}/search?q=noodles", headers=auth)
    assert (first.json["tier"], first.json["degraded"]) == ("L4", False)
    assert second.json["tier"] == "L2"
