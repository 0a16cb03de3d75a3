"""L2 result cache in the real Redis."""

from __future__ import annotations

import hashlib
import json
import re
import time

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.l2_results import L2Entry, ResultCache, UserCacheView, query_hash
from memcache_platform.tiers.redis_client import cache_redis

pytestmark = pytest.mark.integration


def _entry(watermark: int = 7, text: str = "likes phở") -> L2Entry:
    return L2Entry(
        watermark=watermark,
        results=[{"id": "m-1", "memory": text, "score": 0.875, "metadata": {"tags": ["food", "🍜"]}}],
        built_at=1_700_000_000.25,
    )


# --- query_hash and keys -----------------------------------------------------------------------


def test_query_hash_is_equal_for_normalisation_equal_queries():
    assert query_hash("  Pho  RECIPES", 5, None) == query_hash("pho recipes", 5, None)
    assert query_hash("Pho\tRecipes\n", 5, "s1") == query_hash("pho recipes", 5, "s1")


def test_query_hash_is_the_sha256_of_normalised_query_limit_and_session():
    qhash = query_hash("  Pho  RECIPES", 5, None)
    assert re.fullmatch(r"[0-9a-f]{64}", qhash)
    # The documented key input: [normalised query, limit, session or ""] as JSON, hashed with SHA-256.
    assert qhash == hashlib.sha256(b'["pho recipes", 5, ""]').hexdigest()
    assert query_hash("bún chả", 3, "s-9") == hashlib.sha256('["bún chả", 3, "s-9"]'.encode()).hexdigest()


def test_query_hash_differs_by_query_limit_and_session():
    base = query_hash("pho recipes", 5, None)
    assert query_hash("pho recipe", 5, None) != base
    assert query_hash("pho recipes", 6, None) != base
    assert query_hash("pho recipes", 5, "session-1") != base
    assert query_hash("pho recipes", 5, "session-1") != query_hash("pho recipes", 5, "session-2")


def test_entry_and_generation_keys_carry_the_user_hash_tag():
    qhash = query_hash("pho recipes", 5, None)
    assert ResultCache.entry_key("alice", 3, qhash) == f"mc:{{alice}}:g3:q:{qhash}"
    assert ResultCache.generation_key("alice") == "mc:{alice}:gen"


def test_put_writes_under_the_documented_key(platform, user_id):
    qhash = query_hash("pho recipes", 5, None)
    platform.l2.put(user_id, 4, {qhash: _entry()})
    raw = platform.redis.get(f"mc:{{{user_id}}}:g4:q:{qhash}")
    assert raw is not None
    assert L2Entry.loads(raw) == _entry()


def test_an_entry_is_a_json_object_with_its_results_last_as_stored(platform, user_id):
    """Any JSON reader takes it (a process of the previous release, in a rolling deploy), and
    ``loads`` keeps the stored results text as it is, for the API to send without re-encoding."""
    qhash = query_hash("pho recipes", 5, None)
    platform.l2.put(user_id, 4, {qhash: _entry()})
    raw = platform.redis.get(f"mc:{{{user_id}}}:g4:q:{qhash}")
    assert json.loads(raw) == {"watermark": 7, "built_at": 1_700_000_000.25, "results": _entry().results}
    results = raw[raw.index(b'"results":') + len(b'"results":') : -1]
    assert L2Entry.loads(raw).hits.json == results
    assert "phở".encode() in results  # UTF-8, not \u escapes


def test_loads_reads_an_entry_written_in_another_key_order():
    """Entries written before the results went last (still in Redis after an upgrade) read whole."""
    old = json.dumps({"watermark": 7, "results": _entry().results, "built_at": 1_700_000_000.25})
    assert L2Entry.loads(old.encode()) == _entry()


# --- put / get ---------------------------------------------------------------------------------


def test_put_get_round_trip_under_a_generation(platform, user_id):
    l2 = platform.l2
    q1 = query_hash("pho recipes", 5, None)
    q2 = query_hash("bún chả", 3, "s-9")
    entries = {q1: _entry(11, "likes phở"), q2: _entry(12, "bún chả in Hà Nội")}
    l2.put(user_id, 1, entries)
    assert l2.get(user_id, 1, q1) == entries[q1]
    assert l2.get(user_id, 1, q2) == entries[q2]
    got = l2.get(user_id, 1, q2)
    assert got is not None
    assert got.watermark == 12
    assert got.results[0]["memory"] == "bún chả in Hà Nội"
    assert got.results[0]["metadata"] == {"tags": ["food", "🍜"]}
    assert got.built_at == 1_700_000_000.25


def test_get_misses_under_another_generation_and_query(platform, user_id):
    l2 = platform.l2
    qhash = query_hash("pho recipes", 5, None)
    l2.put(user_id, 1, {qhash: _entry()})
    assert l2.get(user_id, 2, qhash) is None
    assert l2.get(user_id, 0, qhash) is None
    assert l2.get(user_id, 1, query_hash("pho recipes", 6, None)) is None
    assert l2.get(user_id + "-other", 1, qhash) is None
    assert l2.get(user_id, 1, qhash) == _entry()


def test_put_overwrites_an_entry(platform, user_id):
    l2 = platform.l2
    qhash = query_hash("pho", 5, None)
    l2.put(user_id, 1, {qhash: _entry(1)})
    l2.put(user_id, 1, {qhash: _entry(2)})
    got = l2.get(user_id, 1, qhash)
    assert got is not None and got.watermark == 2


def test_entries_get_a_ttl_no_longer_than_ttl_s(platform, user_id):
    l2 = ResultCache(platform.redis, ttl_s=30)
    qhash = query_hash("pho recipes", 5, None)
    l2.put(user_id, 1, {qhash: _entry()})
    ttl = platform.redis.ttl(l2.entry_key(user_id, 1, qhash))
    assert 0 < ttl <= 30


def test_platform_l2_entries_use_the_configured_ttl(platform, user_id):
    qhash = query_hash("pho recipes", 5, None)
    platform.l2.put(user_id, 1, {qhash: _entry()})
    ttl = platform.redis.ttl(platform.l2.entry_key(user_id, 1, qhash))
    assert 0 < ttl <= platform.settings.l2_ttl_s


# --- state / publish ---------------------------------------------------------------------------


def test_state_of_a_new_user(platform, user_id):
    # A missing watermark is unknown (maybe evicted after a write): the reader sets it to now, so no
    # entry built before can pass as current (tests/integration/tiers/test_eviction.py).
    view = platform.l2.state(user_id)
    assert view == UserCacheView(
        watermark=view.watermark, generation=0, generation_built_from=None, generation_built_at=None
    )
    assert view.watermark == platform.watermarks.current(user_id) > 0


def test_state_reports_the_watermark_after_a_bump(platform, user_id):
    first = platform.watermarks.bump(user_id)
    assert platform.l2.state(user_id).watermark == first
    second = platform.watermarks.bump(user_id)
    view = platform.l2.state(user_id)
    assert view.watermark == second > first
    assert view.generation == 0
    assert view.generation_built_from is None
    assert view.generation_built_at is None


def test_publish_makes_the_generation_current(platform, user_id):
    l2 = platform.l2
    wm = platform.watermarks.bump(user_id)
    before = time.time()
    assert l2.publish(user_id, 1, wm) is True
    after = time.time()
    view = l2.state(user_id)
    assert view.watermark == wm
    assert view.generation == 1
    assert view.generation_built_from == wm
    assert view.generation_built_at is not None
    assert before - 1 <= view.generation_built_at <= after + 1

    assert l2.publish(user_id, 3, wm + 5) is True
    view = l2.state(user_id)
    assert (view.generation, view.generation_built_from) == (3, wm + 5)


def test_publish_refuses_an_older_or_equal_generation(platform, user_id):
    l2 = platform.l2
    assert l2.publish(user_id, 5, 500) is True
    published = l2.state(user_id)
    assert l2.publish(user_id, 5, 999) is False
    assert l2.publish(user_id, 4, 999) is False
    assert l2.publish(user_id, 1, 999) is False
    assert l2.state(user_id) == published
    assert published.generation == 5
    assert published.generation_built_from == 500


def test_publish_of_generation_zero_on_a_new_user_is_refused(platform, user_id):
    assert platform.l2.publish(user_id, 0, 1) is False
    assert platform.l2.state(user_id).generation_built_from is None
    assert platform.redis.exists(platform.l2.generation_key(user_id)) == 0


def test_publish_is_per_user(platform, user_id):
    other = user_id + "-b"
    assert platform.l2.publish(user_id, 9, 90) is True
    assert platform.l2.publish(other, 2, 20) is True
    assert platform.l2.state(user_id).generation == 9
    assert platform.l2.state(other).generation == 2


# --- count -------------------------------------------------------------------------------------


def test_count_counts_only_that_users_entries_of_that_generation(platform, user_id):
    l2 = platform.l2
    other = user_id + "x"  # shares a prefix: the match pattern must not reach it
    mine_g1 = {query_hash(f"q{i}", 5, None): _entry(i) for i in range(3)}
    l2.put(user_id, 1, mine_g1)
    l2.put(user_id, 2, {query_hash("only in g2", 5, None): _entry()})
    l2.put(user_id, 11, {query_hash(f"g11-{i}", 5, None): _entry() for i in range(4)})
    l2.put(other, 1, {query_hash(f"other{i}", 5, None): _entry() for i in range(5)})
    assert l2.count(user_id, 1) == 3
    assert l2.count(user_id, 2) == 1
    assert l2.count(user_id, 11) == 4
    assert l2.count(user_id, 3) == 0
    assert l2.count(other, 1) == 5
    assert l2.count(other, 2) == 0


def test_count_of_a_new_user_is_zero(platform, user_id):
    assert platform.l2.count(user_id, 0) == 0
    assert platform.l2.count(user_id, 1) == 0


# --- Redis down --------------------------------------------------------------------------------


@pytest.fixture
def down_l2() -> ResultCache:
    return ResultCache(cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2), ttl_s=60)


def test_redis_down_state_raises_cache_unavailable(down_l2, user_id):
    with pytest.raises(CacheUnavailable):
        down_l2.state(user_id)


def test_redis_down_get_raises_cache_unavailable(down_l2, user_id):
    with pytest.raises(CacheUnavailable):
        down_l2.get(user_id, 1, query_hash("pho", 5, None))


def test_redis_down_put_raises_cache_unavailable(down_l2, user_id):
    with pytest.raises(CacheUnavailable):
        down_l2.put(user_id, 1, {query_hash("pho", 5, None): _entry()})


def test_redis_down_publish_raises_cache_unavailable(down_l2, user_id):
    with pytest.raises(CacheUnavailable):
        down_l2.publish(user_id, 1, 1)


def test_redis_down_count_raises_cache_unavailable(down_l2, user_id):
    with pytest.raises(CacheUnavailable):
        down_l2.count(user_id, 1)
