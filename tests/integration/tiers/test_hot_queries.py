"""Hot queries (decayed frequency per user) in the real Redis."""

from __future__ import annotations

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.hot_queries import MAX_TRACKED, HotQueries, QuerySpec
from memcache_platform.tiers.redis_client import cache_redis

pytestmark = pytest.mark.integration

HALF_LIFE = 100.0
TTL_S = 600


@pytest.fixture
def hot(platform) -> HotQueries:
    return HotQueries(platform.redis, half_life_s=HALF_LIFE, ttl_s=TTL_S)


def _score(platform, user_id: str, spec: QuerySpec) -> float:
    score = platform.redis.zscore(HotQueries.key(user_id), spec.member())
    assert score is not None
    return float(score)


def test_key_carries_the_user_hash_tag():
    assert HotQueries.key("alice") == "mc:{alice}:hot"


def test_top_orders_by_frequency(hot, user_id):
    a, b = QuerySpec("pho recipes", 5), QuerySpec("bun cha", 5)
    for _ in range(3):
        hot.record(user_id, a, now=1000.0)
    hot.record(user_id, b, now=1000.0)
    assert hot.top(user_id, 10) == [a, b]
    assert hot.top(user_id, 1) == [a]


def test_top_orders_by_frequency_whatever_the_recording_order(hot, user_id):
    a, b, c = QuerySpec("a", 5), QuerySpec("b", 5), QuerySpec("c", 5)
    hot.record(user_id, c, now=1000.0)
    hot.record(user_id, b, now=1000.0)
    hot.record(user_id, a, now=1000.0)
    hot.record(user_id, b, now=1000.0)
    hot.record(user_id, c, now=1000.0)
    hot.record(user_id, c, now=1000.0)
    assert hot.top(user_id, 3) == [c, b, a]


def test_platform_hot_queries_record_with_the_real_clock(platform, user_id):
    hot = platform.hot_queries
    a, b = QuerySpec("recent favourite", 5), QuerySpec("asked once", 5)
    hot.record(user_id, b)
    hot.record(user_id, a)
    hot.record(user_id, a)
    assert hot.top(user_id, 5) == [a, b]


def test_one_use_now_equals_two_uses_a_half_life_ago(platform, hot, user_id):
    a, b = QuerySpec("old but twice", 5), QuerySpec("new once", 5)
    hot.record(user_id, a, now=900.0)
    hot.record(user_id, a, now=900.0)
    hot.record(user_id, b, now=1000.0)
    assert _score(platform, user_id, a) == pytest.approx(_score(platform, user_id, b), abs=1e-9)

    hot.record(user_id, a, now=900.0)  # a third old use tips it
    assert _score(platform, user_id, a) > _score(platform, user_id, b) + 1e-3
    assert hot.top(user_id, 2) == [a, b]


def test_a_use_a_half_life_later_outweighs_one_old_use_twice(platform, hot, user_id):
    old, new = QuerySpec("old", 5), QuerySpec("new", 5)
    hot.record(user_id, old, now=5000.0)
    hot.record(user_id, new, now=5000.0 + HALF_LIFE)
    hot.record(user_id, old, now=5000.0)
    assert _score(platform, user_id, old) == pytest.approx(_score(platform, user_id, new), abs=1e-9)


def test_recent_single_use_beats_old_frequent_use(hot, user_id):
    old, new = QuerySpec("old favourite", 5), QuerySpec("new thing", 5)
    for _ in range(3):  # 3 uses, 2 half-lives before: worth 3/4 of one use now
        hot.record(user_id, old, now=800.0)
    hot.record(user_id, new, now=1000.0)
    assert hot.top(user_id, 2) == [new, old]


def test_scores_stay_finite_with_real_epoch_times(platform, hot, user_id):
    spec = QuerySpec("epoch", 5)
    now = 1_750_000_000.0  # e^(now/tau) would overflow a double; log space must not
    for _ in range(4):
        hot.record(user_id, spec, now=now)
    single = QuerySpec("single", 5)
    hot.record(user_id, single, now=now + 2 * HALF_LIFE)
    # 4 uses at t equal 1 use two half-lives later
    assert _score(platform, user_id, spec) == pytest.approx(_score(platform, user_id, single), abs=1e-6)


def test_query_spec_round_trip_with_unicode_and_session(hot, user_id):
    specs = [
        QuerySpec("phở bò 🍜 «Hà Nội»", 7, "sess:1@x.y"),
        QuerySpec('quotes " and \\ backslash', 3, None),
        QuerySpec("日本語のクエリ", 10, "s-2"),
    ]
    for i, spec in enumerate(specs):
        for _ in range(len(specs) - i):
            hot.record(user_id, spec, now=1000.0)
    top = hot.top(user_id, 10)
    assert top == specs
    assert top[0].session_id == "sess:1@x.y"
    assert top[1].session_id is None
    assert isinstance(top[0].limit, int)


def test_query_spec_member_round_trip():
    spec = QuerySpec("phở  RECIPES", 5, "s1")
    assert QuerySpec.from_member(spec.member()) == spec
    assert QuerySpec.from_member(spec.member().encode()) == spec
    assert QuerySpec.from_member(QuerySpec("x", 1).member()) == QuerySpec("x", 1, None)


def test_same_query_with_other_limit_or_session_is_tracked_apart(platform, hot, user_id):
    hot.record(user_id, QuerySpec("pho", 5), now=1000.0)
    hot.record(user_id, QuerySpec("pho", 6), now=1000.0)
    hot.record(user_id, QuerySpec("pho", 5, "s1"), now=1000.0)
    assert platform.redis.zcard(HotQueries.key(user_id)) == 3


def test_max_tracked_cap_drops_the_lowest(platform, hot, user_id):
    specs = [QuerySpec(f"query {i}", 5) for i in range(MAX_TRACKED + 5)]
    for i, spec in enumerate(specs):
        hot.record(user_id, spec, now=1000.0 + i)  # each newer than the one before
    key = HotQueries.key(user_id)
    assert platform.redis.zcard(key) == MAX_TRACKED
    for dropped in specs[:5]:
        assert platform.redis.zscore(key, dropped.member()) is None
    for kept in specs[5:]:
        assert platform.redis.zscore(key, kept.member()) is not None
    assert hot.top(user_id, 1) == [specs[-1]]
    assert hot.top(user_id, MAX_TRACKED + 50) == list(reversed(specs[5:]))


def test_a_new_query_below_the_cap_is_dropped_at_once(platform, hot, user_id):
    specs = [QuerySpec(f"query {i}", 5) for i in range(MAX_TRACKED)]
    for spec in specs:
        hot.record(user_id, spec, now=2000.0)
    stale = QuerySpec("stale", 5)
    hot.record(user_id, stale, now=1000.0)  # far older than every tracked query
    key = HotQueries.key(user_id)
    assert platform.redis.zcard(key) == MAX_TRACKED
    assert platform.redis.zscore(key, stale.member()) is None


def test_top_of_zero_or_negative_is_empty(hot, user_id):
    hot.record(user_id, QuerySpec("pho", 5), now=1000.0)
    assert hot.top(user_id, 0) == []
    assert hot.top(user_id, -3) == []
    assert hot.top(user_id, 1) == [QuerySpec("pho", 5)]


def test_top_of_a_new_user_is_empty(hot, user_id):
    assert hot.top(user_id, 5) == []


def test_users_are_tracked_apart(hot, user_id):
    other = user_id + "-b"
    hot.record(user_id, QuerySpec("mine", 5), now=1000.0)
    hot.record(other, QuerySpec("theirs", 5), now=1000.0)
    assert hot.top(user_id, 5) == [QuerySpec("mine", 5)]
    assert hot.top(other, 5) == [QuerySpec("theirs", 5)]


def test_record_sets_a_ttl_on_the_key(platform, hot, user_id):
    hot.record(user_id, QuerySpec("pho", 5), now=1000.0)
    key = HotQueries.key(user_id)
    ttl = platform.redis.ttl(key)
    assert 0 < ttl <= TTL_S
    platform.redis.expire(key, 5)
    hot.record(user_id, QuerySpec("pho", 5), now=1001.0)  # each use refreshes it
    assert platform.redis.ttl(key) > 5


def test_platform_hot_queries_use_the_configured_ttl(platform, user_id):
    platform.hot_queries.record(user_id, QuerySpec("pho", 5))
    ttl = platform.redis.ttl(HotQueries.key(user_id))
    assert 0 < ttl <= platform.settings.l2_ttl_s


@pytest.fixture
def down_hot() -> HotQueries:
    client = cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    return HotQueries(client, half_life_s=HALF_LIFE, ttl_s=TTL_S)


def test_redis_down_record_raises_cache_unavailable(down_hot, user_id):
    with pytest.raises(CacheUnavailable):
        down_hot.record(user_id, QuerySpec("pho", 5), now=1000.0)


def test_redis_down_top_raises_cache_unavailable(down_hot, user_id):
    with pytest.raises(CacheUnavailable):
        down_hot.top(user_id, 5)


def test_redis_down_top_of_zero_needs_no_redis(down_hot, user_id):
    assert down_hot.top(user_id, 0) == []
