"""Search: L2 hits, read-your-writes through the watermark, L1 skipping the model, Redis down."""

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.services.search import SearchService
from memcache_platform.tiers.hot_queries import HotQueries
from memcache_platform.tiers.l2_results import ResultCache
from memcache_platform.tiers.locks import Leases
from memcache_platform.tiers.redis_client import cache_redis

pytestmark = pytest.mark.integration


def test_second_search_is_an_l2_hit_equal_to_l4(platform, user_id, write):
    write(user_id, "My favourite food is pho. I'm good at Python")
    first = platform.search.search(user_id, "what do I like to eat", limit=5)
    second = platform.search.search(user_id, "What do I like   to eat", limit=5)  # normalises equal
    assert (first.tier, second.tier) == ("L4", "L2")
    assert second.results == first.results
    direct = platform.mem0.search("what do I like to eat", user_id=user_id, limit=5)
    assert [r["id"] for r in second.results] == [r.id for r in direct]
    assert second.results[0]["memory"] == "Favourite food is pho"
    assert second.results[0]["category"] == "favorite"


def test_a_write_makes_the_next_search_miss_and_include_it(platform, user_id, write):
    write(user_id, "I love pho")
    before = platform.search.search(user_id, "food I love", limit=5)
    platform.search.search(user_id, "food I love", limit=5)  # now cached
    write(user_id, "I love ramen")  # bumps the watermark: the cached entry is now older
    after = platform.search.search(user_id, "food I love", limit=5)
    assert after.tier == "L4"
    assert after.watermark > before.watermark
    assert {r["memory"] for r in after.results} == {"Likes pho", "Likes ramen"}
    assert platform.search.search(user_id, "food I love", limit=5).tier == "L2"


def test_limit_and_session_are_part_of_the_key(platform, user_id, write):
    write(user_id, "I love pho. I love ramen. I love sushi")
    platform.search.search(user_id, "food", limit=3)
    assert platform.search.search(user_id, "food", limit=1).tier == "L4"
    assert len(platform.search.search(user_id, "food", limit=1).results) == 1
    assert platform.search.search(user_id, "food", limit=3, session_id="chat-9").tier == "L4"


def test_session_scopes_results(platform, user_id):
    from memcache_platform.services.extraction import ExtractionService
    from memcache_platform.services.handoff import Handoff

    quiet = ExtractionService(platform.mem0, Handoff(platform.watermarks, None, lambda _: None, 1.0))
    quiet.extract_facts(user_id, [{"role": "user", "content": "I love pho"}], session_id="chat-1")
    quiet.extract_facts(user_id, [{"role": "user", "content": "I love ramen"}], session_id="chat-2")
    scoped = platform.search.search(user_id, "food", limit=5, session_id="chat-1")
    assert [r["memory"] for r in scoped.results] == ["Likes pho"]
    everything = platform.search.search(user_id, "food", limit=5)
    assert {r["memory"] for r in everything.results} == {"Likes pho", "Likes ramen"}


def test_repeated_query_never_runs_the_model_twice(platform, user_id, write):
    write(user_id, "I'm good at Haskell")
    embedder = platform.mem0.backend.memory.embedding_model
    query = "which functional programming languages do I know"
    before = embedder.model_calls
    platform.search.search(user_id, query, limit=3)
    assert embedder.model_calls == before + 1  # a cold query runs the model once
    write(user_id, "I'm good at OCaml")  # L2 is now stale, so the next search goes to L4 ...
    before = embedder.model_calls
    again = platform.search.search(user_id, query, limit=3)
    assert again.tier == "L4"
    assert embedder.model_calls == before  # ... but its embedding came from L1: no model run
    assert "Good at OCaml" in {r["memory"] for r in again.results}  # and it reads the new write
    assert platform.l1.get(query) is not None


def test_redis_down_degrades_to_l4(platform, user_id, write):
    write(user_id, "I love pho")
    dead = cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    service = SearchService(
        platform.mem0,
        ResultCache(dead, ttl_s=60),
        HotQueries(dead, half_life_s=60, ttl_s=60),
        Leases(dead),
        lease_ms=1000,
        wait_ms=100,
    )
    answer = service.search(user_id, "food", limit=3)
    assert (answer.tier, answer.degraded) == ("L4", True)
    assert [r["memory"] for r in answer.results] == ["Likes pho"]
