"""Redis connections for the cache tiers: short timeouts, no retries, a circuit breaker per server.

One Redis (``redis.Redis``) or, with ``MEMCACHE_REDIS_CLUSTER=true``, a Redis Cluster
(``redis.RedisCluster`` built on first use by ``LazyCluster``, one breaker per node). Every key
of a user carries the hash tag ``{user_id}``, so a user's scripts, transactions and multi-key
calls stay on one slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.connection import Connection, parse_url
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.circuit_breaker import (
    CircuitBreaker,
    breaker_for,
    known_breaker,
    node_connection_class,
    server_name,
)
from memcache_platform.tiers.lazy_cluster import CacheCluster, LazyCluster

# What a cache call can raise: RedisError, and on a cluster RedisClusterException, which is not one
# (a slot not covered while its master is down, no node reachable to refresh the slot map).
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, RedisClusterException)
CacheClient = redis.Redis | redis.RedisCluster | LazyCluster


def cache_pool(
    url: str, *, timeout_s: float, breaker_open_s: float = 2.0, breaker_probe_s: float = 0.5
) -> redis.ConnectionPool:
    """A pool for best-effort calls; while its server's breaker is open, each call fails at once.

    ``breaker_open_s`` 0 turns the breaker off (each call then waits up to ``timeout_s``).
    """
    options: dict[str, object] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    if breaker_open_s > 0:
        breaker = breaker_for(
            url, open_s=breaker_open_s, probe_interval_s=breaker_probe_s, probe_timeout_s=timeout_s
        )
        base = parse_url(url).get("connection_class", Connection)
        options["connection_class"] = breaker.connection_class(base)
    return redis.ConnectionPool.from_url(url, **options)


def cache_redis(
    url: str, *, timeout_s: float, breaker_open_s: float = 2.0, breaker_probe_s: float = 0.5
) -> redis.Redis:
    """A client for best-effort cache calls: every call fails fast when Redis is away."""
    pool = cache_pool(
        url, timeout_s=timeout_s, breaker_open_s=breaker_open_s, breaker_probe_s=breaker_probe_s
    )
    return redis.Redis(connection_pool=pool)


def cluster_options(
    *, timeout_s: float, breaker_open_s: float = 2.0, breaker_probe_s: float = 0.5
) -> dict[str, object]:
    """``RedisCluster`` keyword arguments for best-effort calls (also limits' cluster storage's).

    No cluster-level retries: a call to a dead master fails once, at once when its node's breaker
    is open, and the caller degrades as on one Redis. MOVED/ASK are still followed (they are
    redirections, not retries).
    """
    options: dict[str, object] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 0),
        "require_full_coverage": False,  # the other masters serve their slots while one is down
        "health_check_interval": 30,
    }
    if breaker_open_s > 0:
        options["connection_class"] = node_connection_class(
            Connection, open_s=breaker_open_s, probe_interval_s=breaker_probe_s, probe_timeout_s=timeout_s
        )
    return options


def cache_cluster(
    url: str,
    *,
    timeout_s: float,
    breaker_open_s: float = 2.0,
    breaker_probe_s: float = 0.5,
    cluster_class: type[redis.RedisCluster] = CacheCluster,
) -> LazyCluster:
    """A cluster client from any seed node's URL, built on first use (it reads the slot map then).

    A process may start while every node is down: its calls fail as Redis failures until a
    node answers, and the seed's breaker spares them the connect attempt meanwhile.
    """
    options = cluster_options(
        timeout_s=timeout_s, breaker_open_s=breaker_open_s, breaker_probe_s=breaker_probe_s
    )
    breaker = (
        breaker_for(url, open_s=breaker_open_s, probe_interval_s=breaker_probe_s, probe_timeout_s=timeout_s)
        if breaker_open_s > 0
        else None
    )
    return LazyCluster(url, options, breaker=breaker, cluster_class=cluster_class)


def is_cluster(client: object) -> bool:
    """True for a Redis Cluster client (built or still lazy): keys are spread over several nodes."""
    return isinstance(client, (redis.RedisCluster, LazyCluster))


def breaker_of(client: redis.Redis) -> CircuitBreaker | None:
    """The circuit breaker a client's connections go through, if any (one Redis)."""
    return getattr(client.connection_pool.connection_class, "breaker", None)


def open_breakers(client: CacheClient) -> list[str]:
    """The servers (``host:port``) whose breaker is open now, for one Redis or every cluster node."""
    if isinstance(client, LazyCluster) and client.built is None:  # not built: only the seed was tried
        breakers = [known_breaker(server_name(client.url))]
    elif is_cluster(client):
        breakers = [known_breaker(node.name) for node in client.get_nodes()]
    else:
        breakers = [breaker_of(client)]
    return [b.name for b in breakers if b is not None and b.is_open]


def ping(client: CacheClient) -> bool:
    """PING the Redis, or every master of a cluster (a dead one makes the cache degraded)."""
    if is_cluster(client):
        return bool(client.ping(target_nodes=redis.RedisCluster.PRIMARIES))
    return bool(client.ping())


def user_key(user_id: str, suffix: str) -> str:
    """A key of one user. The hash tag ``{user_id}`` keeps a user's keys on one Redis Cluster node."""
    return f"mc:{{{user_id}}}:{suffix}"


def scan_user(client: CacheClient, user_id: str, suffix_pattern: str, *, count: int = 500) -> Iterator[Any]:
    """SCAN for the user's keys matching ``mc:{user}:<suffix_pattern>``; on a cluster, only the
    user's node (their hash tag names one slot), so a down master elsewhere does not matter."""
    pattern = user_key(user_id, suffix_pattern)
    if is_cluster(client):
        node = client.get_node_from_key(pattern)
        return client.scan_iter(match=pattern, count=count, target_nodes=node)
    return client.scan_iter(match=pattern, count=count)


@contextmanager
def redis_errors(what: str) -> Iterator[None]:
    """Turn a Redis failure inside the block into ``CacheUnavailable("<what>: Redis unavailable (…)")``.

    The tiers' one translation: callers above the tiers see only the platform's own errors.
    """
    try:
        yield
    except REDIS_ERRORS as exc:
        raise CacheUnavailable(f"{what}: Redis unavailable ({exc})") from exc
