"""A Redis Cluster client built on first use, and built again after a failed build.

redis-py's ``RedisCluster`` reads the slot map in its constructor, so a process started while the
whole cluster is down could not build its tiers at all. ``LazyCluster`` answers every call by
building the real client first: while no node answers, each call fails as a Redis failure
(at once while the seed node's circuit breaker is open) and the caller degrades as with one Redis
that is down; once a node answers, the next call builds the client and the tiers are back.

Its scripts (``register_script``) fall back to EVAL on NOSCRIPT: a cluster's ``SCRIPT LOAD``
goes to every master and fails while any is down, so a master that restarted empty could not
serve a script again until every other master was back. EVAL runs the script on the one node
that lost it, and caches it there for the next EVALSHA.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from redis.commands.core import Script
from redis.connection import Encoder
from redis.exceptions import NoScriptError

from memcache_platform.tiers.circuit_breaker import CircuitBreaker

# Commands whose one key is their first argument: their slot is that key's, with no command parser.
# fmt: off
_FIRST_KEY_ONLY = frozenset({
    "GET", "SET", "SETEX", "PSETEX", "SETNX", "GETDEL", "GETEX", "INCR", "INCRBY", "DECR", "DECRBY",
    "EXPIRE", "PEXPIRE", "EXPIREAT", "TTL", "PTTL", "PERSIST", "TYPE",
    "HGET", "HSET", "HDEL", "HGETALL", "HMGET", "HINCRBY", "SADD", "SREM", "SMEMBERS", "SISMEMBER", "SCARD",
    "ZADD", "ZREM", "ZSCORE", "ZINCRBY", "ZRANGE", "ZREVRANGE", "ZCARD", "LPUSH", "RPUSH", "LRANGE", "LTRIM",
})
# fmt: on
_ROUTED_BY_KEYS = _FIRST_KEY_ONLY | {"EVALSHA", "EVAL"}


class CacheCluster(redis.RedisCluster):
    """``RedisCluster`` with a short path for the commands of the cache's hot path.

    For every command redis-py resolves a routing policy, asks its command parser for the keys
    twice (to choose the policy, then the node) and gathers per-node results in a dict: tens of
    microseconds of Python per call, on every L2 lookup. A one-key command (or a script) goes to
    its key's master, so with no retries, no replica reads and no explicit target it is sent
    there directly, through the same ``_execute_command`` (MOVED, ASK and connection errors are
    handled as before).
    """

    _direct = False  # the constructor's own calls (the slot map) take redis-py's path

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._direct = (
            self.retry.get_retries() == 0
            and not self.read_from_replicas
            and self.load_balancing_strategy is None
        )

    def determine_slot(self, *args: Any) -> int | None:
        if len(args) >= 2 and isinstance(args[0], str) and args[0].upper() in _FIRST_KEY_ONLY:
            return self.keyslot(args[1])
        return super().determine_slot(*args)

    def _internal_execute_command(self, *args: Any, **kwargs: Any) -> Any:
        command = args[0]
        if self._direct and command in _ROUTED_BY_KEYS and "target_nodes" not in kwargs:
            node = self.nodes_manager.get_node_from_slot(self.determine_slot(*args))  # CROSSSLOT raises
            return self._execute_command(node, *args, **kwargs)
        return super()._internal_execute_command(*args, **kwargs)


class ClusterUnreachable(redis.ConnectionError):
    """No cluster node answered while building the client (a Redis failure like any other)."""


class FallbackScript(Script):
    """A script that runs as EVAL on the node that answered NOSCRIPT (no SCRIPT LOAD on every master)."""

    def __call__(
        self,
        keys: Sequence[Any] | None = None,
        args: Iterable[Any] | None = None,
        client: Any = None,
    ) -> Any:
        keys, args = list(keys or []), list(args or [])
        client = client if client is not None else self.registered_client
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.script, len(keys), *keys, *args)


class LazyCluster:
    """Stands for a ``RedisCluster`` of ``url``: built on first use, again after each failed build."""

    def __init__(
        self,
        url: str,
        options: dict[str, Any],
        *,
        breaker: CircuitBreaker | None = None,
        cluster_class: type[redis.RedisCluster] = CacheCluster,
    ) -> None:
        """``breaker`` is the seed node's: while it is open, a build is not even tried."""
        self.url = url
        self.options = options
        self.breaker = breaker
        self.cluster_class = cluster_class
        self._client: redis.RedisCluster | None = None
        self._lock = threading.Lock()
        self._encoder = Encoder(
            options.get("encoding", "utf-8"),
            options.get("encoding_errors", "strict"),
            options.get("decode_responses", False),
        )

    @property
    def built(self) -> redis.RedisCluster | None:
        """The real client once built, else None (never builds)."""
        return self._client

    @property
    def client(self) -> redis.RedisCluster:
        """The real client, built now if need be (a ``redis.ConnectionError`` if no node answers)."""
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> redis.RedisCluster:
        if self.breaker is not None:
            self.breaker.check()  # the seed refused or timed out recently: no connect attempt
        try:
            return self.cluster_class.from_url(self.url, **self.options)
        except (redis.RedisError, redis.RedisClusterException) as exc:
            # The seed's connections go through its breaker, which a refusal or timeout has tripped.
            raise ClusterUnreachable(f"Redis Cluster {self.url}: no node answered ({exc})") from exc

    def register_script(self, script: str | bytes) -> FallbackScript:
        """A script object that needs no connection until it is called."""
        return FallbackScript(self, script)

    def get_encoder(self) -> Encoder:
        """The encoder of the client's options (scripts hash their text with it before any build)."""
        return self._encoder

    def __getattr__(self, name: str) -> Any:
        # Anything else is the real client's: commands, pipeline(), get_nodes(), ...
        if name.startswith("__") or name in _OWN:  # not set yet (copy, pickle, a half-built object)
            raise AttributeError(name)
        return getattr(self.client, name)


_OWN = frozenset({"_client", "_lock", "_encoder", "url", "options", "breaker", "cluster_class"})
