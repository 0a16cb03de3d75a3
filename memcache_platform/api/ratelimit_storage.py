"""The rate limiter's storage on a Redis Cluster, whose client is built on first use.

limits' ``RedisClusterStorage`` builds its ``RedisCluster`` in its constructor, which reads the
slot map: a web process started while every node was down could not even bind its limiter.
This storage (scheme ``memcache+cluster://``) takes a ``LazyCluster`` instead, so the limiter
starts, fails open to its in-memory counters during the outage (as with one Redis), and counts on
the cluster again once a node answers.
"""

from __future__ import annotations

from typing import Any

from limits.storage import RedisClusterStorage, RedisStorage
from limits.storage.base import Storage

from memcache_platform.tiers.lazy_cluster import LazyCluster

SCHEME = "memcache+cluster"


class LazyClusterStorage(RedisClusterStorage):
    """``RedisClusterStorage`` over a ``LazyCluster`` (passed as the ``client`` storage option)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str,
        key_prefix: str = RedisStorage.PREFIX,
        wrap_exceptions: bool = False,
        *,
        client: LazyCluster,
        **options: Any,
    ) -> None:
        # RedisClusterStorage.__init__ without its RedisCluster(...) call; its scripts register
        # on the lazy client, which needs no connection for that.
        self.key_prefix = key_prefix
        self.target_server = "redis"
        self.dependency = self.dependencies["redis"].module
        self.storage = client
        self.initialize_storage(uri)
        Storage.__init__(self, uri, wrap_exceptions, **options)
