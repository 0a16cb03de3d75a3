"""The same Redis hang against a real gunicorn whose broker is that Redis, exactly as ``make run`` does.

Also: while the worker still builds Mem0, /readyz answers 503 "starting" at once.
"""

import signal
import statistics
import time
import uuid

import pytest
import requests

from memcache_platform.dev.servers import free_port
from tests.support.web import start_gunicorn, stop

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def web_on_one_redis(platform, redis_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A gunicorn worker with cache and broker on the session's cache Redis; and its first readyz answers."""
    port = free_port()
    env = {
        "MEMCACHE_BROKER_URL": redis_server.url.replace("/0", "/1"),
        "MEMCACHE_RESULT_BACKEND": redis_server.url.replace("/0", "/2"),
        "MEMCACHE_BIND": f"127.0.0.1:{port}",
    }
    log_path = tmp_path_factory.mktemp("web") / "gunicorn.log"
    proc = start_gunicorn(env, log_path)
    base = f"http://127.0.0.1:{port}"
    during_start: list[tuple[int, str, float]] = []  # (status, body status, seconds) before ready
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"web process exited: {log_path.read_text()[-2000:]}")
            assert time.monotonic() < deadline, "web process did not become ready"
            started = time.perf_counter()
            try:
                response = requests.get(f"{base}/readyz", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.1)  # not listening yet
                continue
            except requests.Timeout:
                if during_start:
                    raise  # once the worker serves, a request that hangs is the failure itself
                continue  # still in the listen backlog while the worker imports the app (a busy machine)
            elapsed = time.perf_counter() - started
            if response.status_code == 200:
                break
            during_start.append((response.status_code, response.json()["status"], elapsed))
            time.sleep(0.2)
        yield base, during_start
    finally:  # never leave a server behind, whatever failed
        stop(proc)


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def test_readyz_answers_503_starting_at_once_while_mem0_builds(web_on_one_redis):
    _, during_start = web_on_one_redis
    assert len(during_start) >= 3, "the worker answered only once Mem0 was built"
    assert {(code, status) for code, status, _ in during_start} == {(503, "starting")}
    # The first request can wait in the listen backlog while the worker boots (app import, before
    # post_worker_init); once the worker serves, every answer during the build is immediate.
    assert max(elapsed for _, _, elapsed in during_start[1:]) < 1.0


def test_a_redis_hang_costs_requests_no_timeouts(web_on_one_redis, redis_server, auth):
    base, _ = web_on_one_redis
    user_id = f"user-{uuid.uuid4().hex[:12]}"
    dishes = iter(range(1000))

    def post():  # type: ignore[no-untyped-def]
        """A new fact each time: a restated one would be a no-op with nothing to hand off."""
        body = {"messages": [{"role": "user", "content": f"I love pho number {next(dishes)}"}]}
        return requests.post(f"{base}/v1/users/{user_id}/memories", json=body, headers=auth, timeout=10)

    def search(label: str) -> tuple[requests.Response, float]:
        q = f"{label} {uuid.uuid4().hex[:8]}"  # a new query each time: L2 never answers
        return _timed(
            lambda: requests.get(f"{base}/v1/users/{user_id}/search?q={q}", headers=auth, timeout=10)
        )

    healthy_writes = [_timed(post) for _ in range(3)]
    healthy_searches = [search("healthy") for _ in range(7)]
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        ready, ready_s = _timed(lambda: requests.get(f"{base}/readyz", timeout=5))  # trips the breaker
        hung_searches = [search("hung") for _ in range(7)]
        hung_writes = [_timed(post) for _ in range(3)]
        ready_again, ready_again_s = _timed(lambda: requests.get(f"{base}/readyz", timeout=5))
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    assert ready_s <= 1.0 and ready_again_s <= 1.0
    for answer in (ready, ready_again):
        assert (answer.status_code, answer.json()["status"]) == (200, "degraded")
        assert answer.json()["checks"]["redis"]["ok"] is False
        assert answer.json()["checks"]["broker"]["ok"] is False  # the broker is that hung Redis
    assert {r.json()["tier"] for r, _ in hung_searches} == {"L4"}
    healthy_s = statistics.median(s for _, s in healthy_searches)
    hung_s = statistics.median(s for _, s in hung_searches)
    assert hung_s <= healthy_s + 0.050, f"search median {hung_s * 1000:.0f} vs {healthy_s * 1000:.0f} ms"
    assert [r.json()["cache"]["handoff"] for r, _ in hung_writes] == ["outbox"] * 3
    # No enqueue was tried: a publish to the hung broker would have waited handoff_timeout_s (0.5 s)
    # on every write. The margin is half of that, so the check holds on a loaded 2-core machine.
    slowest = max(s for _, s in hung_writes)
    healthy_w = statistics.median(s for _, s in healthy_writes)
    assert slowest <= healthy_w + 0.25, f"write {slowest * 1000:.0f} vs {healthy_w * 1000:.0f} ms"
