"""Watermarks in the real Redis."""

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.redis_client import cache_redis
from memcache_platform.tiers.watermark import Watermarks

pytestmark = pytest.mark.integration


def test_bump_is_monotonic_and_read_back(platform, user_id):
    marks = platform.watermarks
    assert marks.current(user_id) == 0
    first = marks.bump(user_id)
    second = marks.bump(user_id)
    assert second > first > 0
    assert marks.current(user_id) == second


def test_bump_after_key_loss_lands_above_the_lost_value(platform, user_id):
    marks = platform.watermarks
    before = marks.bump(user_id)
    platform.redis.delete(Watermarks.key(user_id))  # what a Redis restart without persistence does
    assert marks.bump(user_id) > before


def test_key_carries_the_user_hash_tag():
    assert Watermarks.key("alice") == "mc:{alice}:wm"


def test_redis_down_raises_cache_unavailable():
    marks = Watermarks(cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2))
    with pytest.raises(CacheUnavailable):
        marks.bump("alice")
    with pytest.raises(CacheUnavailable):
        marks.current("alice")
