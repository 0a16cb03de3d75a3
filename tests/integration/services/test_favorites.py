"""Favourites: L3 when built from the latest write, L4 otherwise, stale L3 only when L4 is down."""

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import MemoryStoreUnavailable
from memcache_platform.services.favorites import FavoritesService
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.watermark import Watermarks

pytestmark = pytest.mark.integration


def test_current_l3_answers(platform, user_id, write):
    write(user_id, "My favourite drink is tea")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    answer = platform.favorites.get(user_id)
    assert (answer.tier, answer.stale) == ("L3", False)
    assert answer.summary.favorites == {"drink": ["tea"]}


def test_write_after_build_reads_from_l4(platform, user_id, write):
    write(user_id, "My favourite drink is tea")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    write(user_id, "My favourite drink is coffee")  # no rebuild yet: L3 is behind the watermark
    answer = platform.favorites.get(user_id)
    assert (answer.tier, answer.stale) == ("L4", False)
    # One favourite drink at a time: coffee replaced tea in L4 (services/supersede.py).
    assert answer.summary.favorites == {"drink": ["coffee"]}


def test_user_unknown_to_l3_reads_from_l4(platform, user_id, write):
    write(user_id, "I'm good at Rust")
    answer = platform.favorites.get(user_id)
    assert answer.tier == "L4"
    assert answer.summary.top_skills == ["Rust"]


def test_l3_down_falls_back_to_l4(platform, user_id, write):
    write(user_id, "I'm good at Go")
    dead_l3 = L3Store.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    answer = FavoritesService(platform.mem0, dead_l3, platform.watermarks).get(user_id)
    assert answer.tier == "L4"
    assert answer.summary.top_skills == ["Go"]


class DownMem0:
    """Fault injection: Mem0 unreachable (standing in for a stopped L4, which the other tests share)."""

    def get_all(self, **_):
        raise MemoryStoreUnavailable("Mem0 get_all failed: its store is unreachable")


def test_stale_l3_served_and_marked_when_l4_is_down(platform, user_id, write):
    write(user_id, "My favourite drink is tea")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    write(user_id, "My favourite drink is coffee")
    answer = FavoritesService(DownMem0(), platform.l3, platform.watermarks).get(user_id)
    assert (answer.tier, answer.stale) == ("L3", True)
    assert answer.summary.favorites == {"drink": ["tea"]}


def test_nothing_cached_and_l4_down_raises(platform, user_id, write):
    with pytest.raises(MemoryStoreUnavailable):
        FavoritesService(DownMem0(), platform.l3, platform.watermarks).get(user_id)


def test_a_read_that_finds_the_watermark_lost_asks_for_a_rebuild_once(platform, user_id, write):
    write(user_id, "My favourite drink is tea")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    platform.redis.delete(Watermarks.key(user_id))  # what a Redis restarted empty does to it
    asked: list[str] = []
    service = FavoritesService(
        platform.mem0, platform.l3, platform.watermarks, on_watermark_lost=asked.append
    )
    assert service.get(user_id).tier == "L4"  # the build can no longer be proven current
    assert asked == [user_id]
    assert service.get(user_id).tier == "L4"
    assert asked == [user_id]  # the read floored the watermark: asked once


def test_a_read_of_a_user_never_built_asks_for_nothing(platform, user_id):
    asked: list[str] = []
    service = FavoritesService(
        platform.mem0, platform.l3, platform.watermarks, on_watermark_lost=asked.append
    )
    assert service.get(f"{user_id}-unknown").tier == "L4"  # no watermark, and no build to heal
    assert asked == []


@pytest.mark.parametrize("reader", ["favorites", "search"])
def test_after_a_lost_watermark_the_first_read_heals_l3_through_the_worker(
    platform, client, auth, user_id, write, wait_for, celery_worker, reader
):
    """The platform's own wiring: one read after the loss, then L3 serves again without a sweep.

    Whichever read floors the watermark first must ask: the favourites reads after it find it present.
    """
    write(user_id, "My favourite drink is tea")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    platform.redis.delete(Watermarks.key(user_id))
    path = f"/v1/users/{user_id}/favorites"
    if reader == "favorites":
        assert client.get(path, headers=auth).json["tier"] == "L4"
    else:
        search = client.get(f"/v1/users/{user_id}/search", query_string={"q": "drink"}, headers=auth)
        assert search.status_code == 200
    assert wait_for(lambda: client.get(path, headers=auth).json["tier"] == "L3", timeout=10)
    # The rebuild goes on warming L2 after it wrote L3: let it end, so no later test counts its lookups.
    assert wait_for(lambda: not platform.redis.exists(RebuildCoordinator.lock_key(user_id)), timeout=10)
