"""``redis_errors``: the tiers' one translation of a Redis failure into ``CacheUnavailable``."""

import pytest
import redis

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.redis_client import redis_errors


def test_a_refused_connection_becomes_cache_unavailable_naming_what_failed():
    client = redis.Redis(port=free_port(), socket_connect_timeout=0.2)  # nothing listens there
    with pytest.raises(CacheUnavailable) as caught, redis_errors("watermark not bumped"):
        client.incr("k")
    assert str(caught.value).startswith("watermark not bumped: Redis unavailable (")
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


def test_other_errors_and_results_pass_through_unchanged():
    with pytest.raises(KeyError), redis_errors("unused"):
        raise KeyError("not a Redis error")
    with redis_errors("unused"):
        value = 42
    assert value == 42
