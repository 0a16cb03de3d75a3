"""Rate limits per end user and per API key (Flask-Limiter, fixed windows, counters in Redis db 4,
or on the Redis Cluster with ``MEMCACHE_REDIS_CLUSTER``).

A key is an application's backend serving all its end users, so each route kind has two budgets:
one per user (one user cannot starve the others) and one per key (a runaway key cannot take the
machine), plus one per key for admin and bulk paths. Writes, searches and bulk paths each share
their budgets across routes (the v1 and the Mem0-compatible ones alike). A 429 carries
``Retry-After`` and ``X-RateLimit-Limit/Remaining/Reset`` of the tightest limit.

Cost: one Redis round trip per limit checked, the headers included (the strategy below reads the
window's expiry in the same script as the increment). Flask-Limiter checks each limit on its own,
so a per-user and a per-key limit cannot share one round trip.

Fails open: when Redis is away each process falls back to in-memory counters, so an outage
never turns writes away; the Redis circuit breaker makes that fallback cost no timeout. The key
is identified by a hash of it, never the key itself.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, g, has_app_context, request
from flask_limiter import Limiter
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import STRATEGIES, FixedWindowRateLimiter
from limits.util import WindowStats

from config.settings import Settings
from memcache_platform.api.context import settings
from memcache_platform.tiers.redis_client import cache_pool, cluster_options

F = TypeVar("F", bound=Callable[..., object])
STRATEGY = "fixed-window-with-stats"

# INCRBY, EXPIRE on a new window, and the window's TTL: a hit and its header figures in one call.
_HIT = """
local current = redis.call('incrby', KEYS[1], ARGV[2])
if current == tonumber(ARGV[2]) then redis.call('expire', KEYS[1], ARGV[1]) end
return {current, redis.call('ttl', KEYS[1])}
"""


class FixedWindowWithStats(FixedWindowRateLimiter):
    """Flask-Limiter's fixed window whose hit also remembers the window, so headers cost no round trip."""

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        if not isinstance(self.storage, RedisStorage):  # the in-memory fallback: nothing to save
            return super().hit(item, *identifiers, cost=cost)
        key = item.key_for(*identifiers)
        script = getattr(self.storage, "_memcache_hit", None)
        if script is None:
            script = self.storage.get_connection().register_script(_HIT)
            self.storage._memcache_hit = script  # type: ignore[attr-defined]
        current, ttl = script([self.storage.prefixed_key(key)], [item.get_expiry(), cost])
        _windows()[key] = WindowStats(time.time() + max(int(ttl), 0), max(0, item.amount - int(current)))
        return int(current) <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        known = _windows().get(item.key_for(*identifiers))
        return known if known is not None else super().get_window_stats(item, *identifiers)


def _windows() -> dict[str, WindowStats]:
    """This request's windows, as the hits saw them (empty outside a request)."""
    if not has_app_context():
        return {}
    return g.setdefault("ratelimit_windows", {})


STRATEGIES.setdefault(STRATEGY, FixedWindowWithStats)  # type: ignore[arg-type]


def _key_identity() -> str:
    """A stable, non-secret name for the caller's key (or its address when it sent none)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    if token.strip():
        return "key-" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
    return "addr-" + (request.remote_addr or "unknown")


def path_user() -> str | None:
    """The ``user_id`` of the route's path (the v1 API)."""
    return (request.view_args or {}).get("user_id")


limiter = Limiter(key_func=_key_identity, headers_enabled=True, swallow_errors=True, strategy=STRATEGY)


def _budget(name: str) -> Callable[[], str]:
    return lambda: getattr(settings(), name)


def _per_user_and_key(kind: str, user_of: Callable[[], str | None]) -> Callable[[F], F]:
    """The ``kind`` budgets of the user that ``user_of`` names (none named: the key's alone) and the key."""

    def user() -> str | None:
        cache: dict[str, str | None] = g.setdefault("ratelimit_users", {})
        if kind not in cache:
            cache[kind] = user_of()
        return cache[kind]

    per_user = limiter.shared_limit(
        _budget(f"rate_limit_user_{kind}"),
        scope=f"user-{kind}",
        key_func=lambda: f"user-{user()}",
        exempt_when=lambda: user() is None,
    )
    per_key = limiter.shared_limit(_budget(f"rate_limit_{kind}"), scope=f"key-{kind}")

    def decorate(view: F) -> F:
        return per_user(per_key(view))

    return decorate


def write_limits(user_of: Callable[[], str | None] = path_user) -> Callable[[F], F]:
    """Writes and deletes: the user's budget and the key's, shared by every write route."""
    return _per_user_and_key("writes", user_of)


def search_limits(user_of: Callable[[], str | None] = path_user) -> Callable[[F], F]:
    """Searches: the user's budget and the key's, shared by every search route."""
    return _per_user_and_key("searches", user_of)


# Admin and bulk paths (warm, warm-all, erase a user, delete all of a user): the key's own budget.
bulk_limit = limiter.shared_limit(_budget("rate_limit_bulk"), scope="key-bulk")


def init_app(app: Flask, conf: Settings) -> None:
    """Bind the limiter to ``app`` with the Redis of ``conf`` (short timeouts, fail open)."""
    breaker = {
        "timeout_s": conf.cache_timeout_s,
        "breaker_open_s": conf.redis_breaker_open_s,
        "breaker_probe_s": conf.redis_breaker_probe_s,
    }
    if conf.redis_cluster:  # limits' RedisClusterStorage builds its RedisCluster with these options
        # ``url`` makes RedisCluster build its node pools from URL options, the only path that takes
        # a connection class: each node's breaker then guards the limiter's calls too.
        options = cluster_options(**breaker) | {"url": conf.redis_url}
    else:
        options = {"connection_pool": cache_pool(conf.rate_limit_storage_url, **breaker)}  # type: ignore[arg-type]
    # Flask-Limiter merges every app's storage options into its one limiter's: each app starts afresh
    # (the suite builds apps on one Redis and on a cluster, whose client options differ).
    limiter._storage_options.clear()
    app.config.update(
        RATELIMIT_STORAGE_URI=conf.rate_limit_storage_url,
        # The cache's pool kind: while the server's circuit breaker is open, each limiter call fails
        # at once, Flask-Limiter falls back to memory, and its periodic re-check (a PING) is free too.
        RATELIMIT_STORAGE_OPTIONS=options,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_ENABLED=conf.rate_limit_enabled,
    )
    limiter.init_app(app)
