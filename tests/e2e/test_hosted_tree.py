"""The hosted backend on the process tree that users run: ``make run`` with ``MEMCACHE_MEM0_BACKEND=hosted``.

``memcache dev run`` in a subprocess (supervisor, gunicorn, a prefork Celery worker, RedBeat beat,
Flower; cache and broker on one Redis; default settings but a 20 s sweep interval) whose Mem0 is the
hosted platform, stood in for by this platform's Mem0-compatible API with the hosted platform's async
adds (``HostedStandIn``: B in a thread of this process, on the session's Mem0, behind a proxy adding
150 ms per request). The tree's own gunicorn workers and Celery worker talk to it with the real
``mem0.MemoryClient``: the add answers PENDING with an event id, the tree's worker follows the event
(``tasks.follow_mem0_event``) and rebuilds once it SUCCEEDED. ``test_hosted_chain.py`` proves the
hosted path's rules with platform A in-process; this module proves them on the arrangement users run,
through a real Redis SIGKILL and restart empty. Nothing is mocked.
"""

from __future__ import annotations

import signal
import time
import uuid

import pytest

from memcache_platform.dev.hosted_chain import HostedStandIn
from memcache_platform.dev.process_tree import ProcessTree
from tests.conftest import API_KEY, TEST_VAR
from tests.support.tree import favourites, running, wait_until

pytestmark = pytest.mark.integration
SWEEP_INTERVAL_S = 20


@pytest.fixture(scope="module")
def stand_in(platform, celery_worker):  # type: ignore[no-untyped-def]
    """B's own hand-offs go to the session worker (B's caches are not under test)."""
    built = HostedStandIn(platform.settings, platform.mem0, latency_s=0.15)
    yield built
    built.close()


@pytest.fixture(scope="module")
def tree(stand_in):  # type: ignore[no-untyped-def]
    settings = {
        "MEMCACHE_MEM0_BACKEND": "hosted",
        "MEMCACHE_MEM0_API_KEY": API_KEY,
        "MEMCACHE_MEM0_HOST": stand_in.host,
        "MEMCACHE_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
    }
    with running(ProcessTree(TEST_VAR / "hosted-tree", settings=settings), "last-hosted-tree.log") as t:
        yield t


def _user() -> str:
    return f"hosted-tree-{uuid.uuid4().hex[:10]}"


def test_a_hosted_async_add_is_followed_and_reaches_l3_and_l2(tree, stand_in):
    user = _user()
    written = tree.write(user, "I love quince pie")
    assert written.status_code == 201, written.text
    body = written.json()
    assert body["pending"] is True and body["event_ids"], body  # the hosted add was queued
    # Read-your-writes while the event is pending: L4 through the hosted search, never a stale L2.
    first = tree.call("GET", f"/v1/users/{user}/search", params={"q": "quince pie"}).json()
    assert first["tier"] == "L4"
    # The tree's worker follows the event and rebuilds once it SUCCEEDED.
    assert wait_until(lambda: favourites(tree, user) == ("L3", {"quince pie"}), 30), favourites(tree, user)
    status = tree.call("GET", f"/v1/users/{user}/cache").json()
    assert status["watermark"] == status["built_from"], status
    answers = [tree.call("GET", f"/v1/users/{user}/search", params={"q": "quince pie"}).json() for _ in "ab"]
    assert [r["memory"] for r in answers[0]["results"]][:1] == ["Likes quince pie"]
    assert answers[1]["tier"] == "L2", answers[1]


def test_hosted_writes_through_a_redis_restart_empty_all_answer_and_converge(tree):
    users = [_user() for _ in range(3)]
    before = tree.restarts()
    accepted: dict[str, list[str]] = {u: [] for u in users}
    statuses: list[int] = []
    for n in range(12):
        if n == 6:  # SIGKILL, 1 s down, started again empty on the same port
            assert tree.redis.process is not None
            tree.redis.process.send_signal(signal.SIGKILL)
            tree.redis.process.wait(10)
            time.sleep(1)
            tree.redis.start()
        user, item = users[n % len(users)], f"medlar{n} pie"
        response = tree.write(user, f"I love {item}")
        statuses.append(response.status_code)
        if response.status_code == 201:
            accepted[user].append(item)
    assert set(statuses) == {201}, statuses
    assert tree.restarts() == before, tree.restarts()  # no process of the tree exited

    def converged() -> bool:
        answers = {u: favourites(tree, u) for u in users}
        return all(tier == "L3" and set(accepted[u]) <= got for u, (tier, got) in answers.items())

    assert wait_until(converged, SWEEP_INTERVAL_S + 10), {u: favourites(tree, u) for u in users}
    fresh = _user()
    assert tree.write(fresh, "I love durian tart").status_code == 201
    # A hosted add settles through its event (polls of B behind 150 ms each), then the rebuild.
    assert wait_until(lambda: favourites(tree, fresh) == ("L3", {"durian tart"}), 10)
