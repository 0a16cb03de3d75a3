"""Single flight: concurrent identical cold searches cost at most two L4 searches."""

import threading

import pytest

from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.services.search import SearchService
from memcache_platform.tiers.locks import Leases

pytestmark = pytest.mark.integration


class CountingBackend:
    """The real Mem0 backend, counting the searches that reach it (instrumentation, not a fake)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.searches = 0
        self._lock = threading.Lock()

    def search(self, *args, **kwargs):
        with self._lock:
            self.searches += 1
        return self.backend.search(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def _concurrent_searches(service: SearchService, user_id: str, n: int) -> list:
    barrier = threading.Barrier(n)
    answers: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = service.search(user_id, "what food do I love", limit=5)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


@pytest.mark.parametrize("n", [50])
def test_identical_cold_misses_share_one_l4_search(platform, user_id, write, n):
    write(user_id, "I love pho. I love ramen")
    counting = CountingBackend(platform.mem0.backend)
    mem0 = Mem0ClientWrapper(counting, timeout_s=30)
    service = SearchService(
        mem0, platform.l2, platform.hot_queries, Leases(platform.redis), lease_ms=5000, wait_ms=5000
    )
    answers = _concurrent_searches(service, user_id, n)
    assert all(a is not None for a in answers)
    assert counting.searches <= 2
    assert {tuple(r["id"] for r in a.results) for a in answers} == {
        tuple(r["id"] for r in answers[0].results)
    }
    assert sum(a.tier == "L2" for a in answers) >= n - 2
