"""Favourites: L3 when built from the latest write, L4 otherwise, stale L3 only when L4 is down."""

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import MemoryStoreUnavailable
from memcache_platform.services.favorites import FavoritesService
from memcache_platform.tiers.l3_store import L3Store

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
