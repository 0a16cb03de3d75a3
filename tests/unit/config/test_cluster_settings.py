"""MEMCACHE_REDIS_CLUSTER: the cache on a cluster, Celery's databases on the separate broker."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings

SEED = "redis://10.0.0.5:7000/0"


def test_a_cluster_needs_its_own_broker():
    with pytest.raises(ValidationError, match="MEMCACHE_BROKER_URL"):
        Settings(redis_cluster=True, redis_url=SEED, broker_url=None)


def test_on_a_cluster_celery_and_redbeat_use_the_broker_and_limits_the_cluster():
    s = Settings(
        redis_cluster=True, redis_url=SEED, broker_url="redis://10.0.0.9:6379/1", result_backend=None
    )
    assert s.effective_broker_url == "redis://10.0.0.9:6379/1"
    assert s.effective_result_backend == "redis://10.0.0.9:6379/2"
    assert s.redbeat_redis_url == "redis://10.0.0.9:6379/3"
    assert s.rate_limit_storage_url == "memcache+cluster://10.0.0.5:7000"


def test_one_redis_keeps_every_database_on_it():
    s = Settings(redis_url="redis://10.0.0.5:6379/0", broker_url=None, result_backend=None)
    assert (s.effective_broker_url, s.redbeat_redis_url) == (
        "redis://10.0.0.5:6379/1",
        "redis://10.0.0.5:6379/3",
    )
    assert s.rate_limit_storage_url == "redis://10.0.0.5:6379/4"
