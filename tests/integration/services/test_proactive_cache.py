"""``ProactiveCacheService.update_user_favorite_cache``: L3 rebuilt from L4, idempotent."""

import pytest

from memcache_platform.services.handoff import Handoff
from memcache_platform.services.memories import MemoryService
from memcache_platform.tiers.l3_users import L3Users

pytestmark = pytest.mark.integration


def test_rebuild_mirrors_l4(platform, user_id, write):
    write(user_id, "My favourite food is pho. I'm good at Python and SQL. I live in Hanoi")
    result = platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert result.memories == 4
    assert result.l3_written is True
    assert result.outcome == "rebuilt"
    assert result.built_from_watermark == platform.watermarks.current(user_id)
    entry = platform.l3.get(user_id)
    assert entry.summary.favorites == {"food": ["pho"]}
    assert entry.summary.top_skills == ["Python", "SQL"]
    assert entry.summary.profile == {"location": "Hanoi"}
    l4_ids = sorted(r.id for r in platform.mem0.get_all(user_id=user_id))
    assert sorted(f.memory_id for f in platform.l3.facts(user_id)) == l4_ids


def test_rebuild_twice_is_the_same_as_once(platform, user_id, write):
    write(user_id, "I love tea")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    first = (platform.l3.facts(user_id), platform.l3.get(user_id).summary)
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert (platform.l3.facts(user_id), platform.l3.get(user_id).summary) == first


def test_deleted_memory_leaves_l3_on_rebuild(platform, user_id, write):
    write(user_id, "I love tea. I love coffee")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    tea = next(r for r in platform.mem0.get_all(user_id=user_id) if "tea" in r.memory)
    # The delete as the API does it, minus the enqueue (a worker rebuild would race this test's own).
    MemoryService(platform.mem0, Handoff(platform.watermarks, None, lambda _: None, 1.0)).delete(
        user_id, tea.id
    )
    assert platform.proactive_cache.update_user_favorite_cache(user_id, force=True).outcome == "rebuilt"
    assert [f.value for f in platform.l3.facts(user_id)] == ["coffee"]
    assert platform.l3.get(user_id).summary.favorites == {"general": ["coffee"]}


def test_known_user_without_memories_gets_an_empty_build(platform, user_id, write):
    L3Users(platform.l3).add_many([user_id])  # as the sweep records a user seen by a write
    result = platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert result.memories == 0
    assert platform.l3.get(user_id).summary.memory_count == 0


def test_unknown_user_without_memories_is_not_created(platform, user_id):
    # A warm request for a user nobody wrote (a typo, an erased user) leaves no trace in L3.
    result = platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert result.memories == 0 and result.l3_written is False
    assert platform.l3.get(user_id) is None


def test_a_rebuild_while_redis_is_away_fails_so_that_the_task_retries(platform, user_id, write):
    """Its build has no watermark (no reader can use it) and it could not take the pending flag."""
    from memcache_platform.dev.servers import free_port
    from memcache_platform.errors import CacheUnavailable
    from memcache_platform.services.proactive_cache import ProactiveCacheService
    from memcache_platform.tiers.coalescing import RebuildCoordinator
    from memcache_platform.tiers.redis_client import cache_redis
    from memcache_platform.tiers.watermark import Watermarks

    write(user_id, "I love tea")
    away = cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)  # nothing listens there
    service = ProactiveCacheService(
        platform.mem0,
        platform.l3,
        Watermarks(away),
        coordinator=RebuildCoordinator(away, lock_ttl_s=30, pending_ttl_s=60),
    )
    with pytest.raises(CacheUnavailable, match="without Redis"):
        service.update_user_favorite_cache(user_id, force=True)
    # With Redis back (the session's), the retry builds from the user's watermark.
    result = platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert (result.outcome, result.built_from_watermark) == ("rebuilt", platform.watermarks.current(user_id))
