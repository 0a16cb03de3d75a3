"""``Mem0ClientWrapper`` against real Mem0 (pgvector, local embedder)."""

import threading

import psycopg
import pytest

from memcache_platform.clients.mem0 import Mem0ClientWrapper, translate_error
from memcache_platform.dev.servers import free_port
from memcache_platform.errors import (
    InvalidInput,
    MemoryNotFound,
    MemoryStoreError,
    MemoryStoreTimeout,
    MemoryStoreUnavailable,
)

pytestmark = pytest.mark.integration


def test_add_get_search_delete(platform, user_id):
    mem0 = platform.mem0
    [tea] = mem0.add("Likes green tea", user_id=user_id, metadata={"category": "favorite"})
    [rust] = mem0.add("Good at Rust", user_id=user_id, metadata={"category": "skill"}, run_id="s1")
    assert tea.category == "favorite"
    assert mem0.get(tea.id, user_id=user_id).memory == "Likes green tea"
    assert [r.id for r in mem0.get_all(user_id=user_id)] == [tea.id, rust.id]
    hits = mem0.search("which drink", user_id=user_id, limit=1)
    assert [h.id for h in hits] == [tea.id]
    assert hits[0].score is not None
    assert [
        h.id for h in mem0.search("programming language skills", user_id=user_id, limit=5, run_id="s1")
    ] == [rust.id]
    mem0.delete(tea.id, user_id=user_id)
    assert [r.id for r in mem0.get_all(user_id=user_id)] == [rust.id]


def test_get_all_is_not_capped_at_mem0s_default_of_20(platform, user_id):
    for i in range(25):
        platform.mem0.add(f"Fact number {i}", user_id=user_id)
    assert len(platform.mem0.get_all(user_id=user_id)) == 25


def test_other_users_memory_is_not_found(platform, user_id):
    [tea] = platform.mem0.add("Likes tea", user_id=user_id)
    with pytest.raises(MemoryNotFound):
        platform.mem0.get(tea.id, user_id="someone-else")
    with pytest.raises(MemoryNotFound):
        platform.mem0.delete(tea.id, user_id="someone-else")
    assert platform.mem0.get(tea.id, user_id=user_id).id == tea.id


@pytest.mark.parametrize("memory_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_missing_memory_is_not_found(platform, memory_id):
    with pytest.raises(MemoryNotFound):
        platform.mem0.get(memory_id)


class HangingBackend:
    """Fault injection: a Mem0 that never answers (a hung database cannot be arranged per test)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def get_all(self, **_):
        self.release.wait(10)
        return []


def test_every_call_is_bounded_by_the_timeout():
    backend = HangingBackend()
    wrapper = Mem0ClientWrapper(backend, timeout_s=0.2)
    with pytest.raises(MemoryStoreTimeout, match="0.2 s"):
        wrapper.get_all(user_id="alice")
    backend.release.set()


def test_database_errors_become_unavailable():
    # A real refused connection, translated the way the wrapper does for every call.
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x", connect_timeout=2)
    assert isinstance(translate_error("add", caught.value), MemoryStoreUnavailable)


def test_other_errors_keep_their_meaning():
    from mem0.exceptions import ValidationError

    assert isinstance(translate_error("get", ValueError("Memory with id x not found")), MemoryNotFound)
    assert isinstance(
        translate_error("add", ValidationError("bad messages", error_code="VALIDATION_003")), InvalidInput
    )
    generic = translate_error("search", RuntimeError("boom"))
    assert type(generic) is MemoryStoreError
    assert "search" in generic.message


def test_search_finds_a_users_memory_among_many_closer_ones_of_other_users(platform, user_id):
    # 3,000 memories of another user sit nearer the query than this user's one. With Mem0's HNSW
    # index the planner scanned it and filtered by user afterwards, and so found nothing.
    crowd = f"{user_id}-crowd"
    [seed] = platform.mem0.add("Likes spicy pho", user_id=crowd)
    table = platform.settings.mem0_collection
    with platform.mem0.backend.pool.connection() as conn:  # bulk copies: 3,000 adds would take minutes
        conn.execute(
            f"INSERT INTO {table} (id, vector, payload) "
            f"SELECT gen_random_uuid(), vector, payload FROM {table}, generate_series(1, 3000) WHERE id = %s",
            (seed.id,),
        )
    try:
        [mine] = platform.mem0.add("Likes noodle soup", user_id=user_id)
        hits = platform.mem0.search("spicy pho", user_id=user_id, limit=5)
        assert [h.id for h in hits] == [mine.id]
    finally:  # 3,001 identical copies are no user a sweep should meet later in the session
        with platform.mem0.backend.pool.connection() as conn:
            conn.execute(f"DELETE FROM {table} WHERE payload->>'user_id' = %s", (crowd,))
