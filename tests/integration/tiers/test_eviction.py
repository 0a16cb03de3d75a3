"""Evicting cache keys (maxmemory, a flush) costs misses, never a stale read.

A DEL of one key is what an eviction of that key looks like to every reader (Redis drops it the
same way), and it lets each test choose the key: a real ``maxmemory`` evicts whichever it samples.
"""

import pytest

from memcache_platform.tiers.l2_results import ResultCache
from memcache_platform.tiers.watermark import Watermarks

pytestmark = pytest.mark.integration
QUERY = "what food do I like"


def _memories(answer) -> set[str]:  # type: ignore[no-untyped-def]
    return {r["memory"] for r in answer.results}


@pytest.fixture
def warmed(platform, user_id, write):  # type: ignore[no-untyped-def]
    """A user with one memory, a build, and an L2 hit for ``QUERY``."""
    write(user_id, "I love pho")
    platform.search.search(user_id, QUERY, limit=10)  # a miss: recorded as hot, filled
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert platform.search.search(user_id, QUERY, limit=10).tier == "L2"
    return user_id


def _write_unrebuilt(platform, write, user_id: str) -> None:  # type: ignore[no-untyped-def]
    """A new memory whose watermark bump succeeded and whose rebuild has not run yet."""
    before = platform.watermarks.current(user_id)
    write(user_id, "I love ramen")
    assert platform.watermarks.current(user_id) > before


@pytest.mark.parametrize("kind", ["generation", "l2_entry", "hot_queries", "l1", "all"])
def test_evicting_a_cache_key_after_a_write_costs_a_miss_not_a_stale_read(platform, warmed, write, kind):
    _write_unrebuilt(platform, write, warmed)
    gen = platform.l2.state(warmed).generation
    keys = {
        "generation": [ResultCache.generation_key(warmed)],
        "l2_entry": list(platform.redis.scan_iter(match=f"mc:{{{warmed}}}:g{gen}:q:*")),
        "hot_queries": [platform.hot_queries.key(warmed)],
        "l1": list(platform.redis.scan_iter(match="mc:emb:*")),
        "all": list(platform.redis.scan_iter(match=f"mc:{{{warmed}}}:*")),
    }[kind]
    assert keys
    platform.redis.delete(*keys)
    answer = platform.search.search(warmed, QUERY, limit=10)
    assert "Likes ramen" in _memories(answer)


def test_an_evicted_watermark_after_a_write_does_not_serve_the_older_entry(platform, warmed, write):
    # The dangerous one: the entry was built from W0, the write bumped to W1 and then W1 was evicted.
    # A missing watermark read as 0 made the entry (W0 >= 0) look current.
    _write_unrebuilt(platform, write, warmed)
    platform.redis.delete(Watermarks.key(warmed))
    answer = platform.search.search(warmed, QUERY, limit=10)
    assert "Likes ramen" in _memories(answer)
    favorites = platform.favorites.get(warmed)
    assert "ramen" in str(favorites.summary.favorites)


def test_a_flushed_cache_db_costs_misses_then_heals(platform, warmed, write, sweep_now):
    _write_unrebuilt(platform, write, warmed)
    platform.redis.flushdb()
    assert "Likes ramen" in _memories(platform.search.search(warmed, QUERY, limit=10))
    assert "ramen" in str(platform.favorites.get(warmed).summary.favorites)
    sweep_now()  # the read floored the lost watermark: the sweep sees the user dirty and rebuilds
    assert platform.favorites.get(warmed).tier == "L3"
    assert "ramen" in str(platform.favorites.get(warmed).summary.favorites)


def test_a_missing_watermark_without_a_write_still_serves_a_correct_answer(platform, warmed):
    platform.redis.delete(Watermarks.key(warmed))
    assert _memories(platform.search.search(warmed, QUERY, limit=10)) == {"Likes pho"}
    assert platform.watermarks.current(warmed) > 0  # the read set it: no older entry can pass now
