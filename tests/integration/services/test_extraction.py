"""``ExtractionService``: L4 first, the hand-off only after L4 succeeded."""

import psycopg
import pytest

from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.errors import MemoryStoreUnavailable
from memcache_platform.services.extraction import ExtractionService, PartialWriteError
from memcache_platform.services.handoff import HandoffResult

pytestmark = pytest.mark.integration
PHO = [{"role": "user", "content": "My favourite food is pho and I'm good at Python"}]


class FailingAfter:
    """Fault injection: the real backend, but its L4 writes fail after ``n`` calls as if PostgreSQL went away.

    A database dying between two writes of one request cannot be timed for real in a test.
    """

    def __init__(self, backend, n: int) -> None:
        self.backend, self.n = backend, n

    def _write(self, name: str, *args, **kwargs):
        if self.n == 0:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        self.n -= 1
        return getattr(self.backend, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._write("add", *args, **kwargs)

    def add_many(self, *args, **kwargs):
        return self._write("add_many", *args, **kwargs)

    def update(self, *args, **kwargs):
        return self._write("update", *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def _service(platform, handed: list[str], fail_after: int | None = None) -> ExtractionService:
    mem0 = platform.mem0
    if fail_after is not None:
        mem0 = Mem0ClientWrapper(FailingAfter(platform.mem0.backend, fail_after), timeout_s=30)

    def handoff(user_id: str) -> HandoffResult:
        handed.append(user_id)
        return HandoffResult(None, "queued")

    return ExtractionService(mem0, handoff)


def test_write_then_handoff(platform, user_id):
    handed: list[str] = []
    result = _service(platform, handed).extract_facts(user_id, PHO)
    assert [(m.category, m.topic, m.value) for m in result.memories] == [
        ("favorite", "food", "pho"),
        ("skill", None, "Python"),
    ]
    assert handed == [user_id]


def test_no_handoff_when_l4_write_fails(platform, user_id):
    handed: list[str] = []
    with pytest.raises(MemoryStoreUnavailable):
        _service(platform, handed, fail_after=0).extract_facts(user_id, PHO)
    assert handed == []
    assert platform.mem0.get_all(user_id=user_id) == []


def test_partial_failure_lists_what_was_written(platform, user_id):
    handed: list[str] = []
    [ramen] = (
        _service(platform, handed)
        .extract_facts(user_id, [{"role": "user", "content": "My favourite food is ramen"}])
        .memories
    )
    # The request's ADDs (one bulk add) go in; its UPDATE of the favourite food then fails.
    with pytest.raises(PartialWriteError) as caught:
        _service(platform, handed, fail_after=1).extract_facts(user_id, PHO)
    written = caught.value.details["written"]
    assert [(w["event"], w["memory"]) for w in written] == [("ADD", "Good at Python")]
    assert sorted(r.memory for r in platform.mem0.get_all(user_id=user_id)) == [
        "Favourite food is ramen",
        "Good at Python",
    ]
    assert handed == [user_id, user_id]  # what was written still gets its rebuild
