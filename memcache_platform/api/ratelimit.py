"""Rate limits per end user and per API key (Flask-Limiter, fixed windows, counters in Redis db 4,
or on the Redis Cluster with ``MEMCACHE_REDIS_CLUSTER``).

A key is an application's backend serving all its end users, so each route kind has two budgets:
one per user (one user cannot starve the others) and one per key (a runaway key cannot take the
machine), plus one per key for admin and bulk paths. Writes, searches and bulk paths each share
their budgets across routes (the v1 and the Mem0-compatible ones alike). A 429 carries
``Retry-After`` and ``X-RateLimit-Limit/Remaining/Reset`` of the tightest limit.

Cost: one Redis round trip for all the limits of a request, the headers included. The strategy's
script reads the window's expiry with the increment, and ``BatchedLimiter`` sends the increments of
every limit of the view in one pipeline before Flask-Limiter checks them one by one; each check then
takes its prefetched count. A pipeline, not one script: the user's and the key's counters sit on
different Redis Cluster slots. Counts Flask-Limiter did not use (it stops at the first breach) are
handed back at the end, a second round trip on refused requests only.

Fails open: when Redis is away each process falls back to in-memory counters, so an outage
never turns writes away; the Redis circuit breaker makes that fallback cost no timeout. The key
is identified by a hash of it, never the key itself.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g, has_app_context, request
from flask_limiter import Limiter
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import STRATEGIES, FixedWindowRateLimiter
from limits.util import WindowStats
from redis.commands.core import Script
from redis.exceptions import NoScriptError, RedisError

from config.settings import Settings
from memcache_platform.api import ratelimit_storage  # noqa: F401 - registers memcache+cluster://
from memcache_platform.api.context import settings
from memcache_platform.tiers.redis_client import cache_cluster, cache_pool, is_cluster

F = TypeVar("F", bound=Callable[..., object])
STRATEGY = "fixed-window-with-stats"

# INCRBY, EXPIRE on a new window, and the window's TTL: a hit and its header figures in one call.
_HIT = """
local current = redis.call('incrby', KEYS[1], ARGV[2])
if current == tonumber(ARGV[2]) then redis.call('expire', KEYS[1], ARGV[1]) end
return {current, redis.call('ttl', KEYS[1])}
"""


# A refund of a prefetched hit Flask-Limiter did not check: never on a window that expired since
# (a DECRBY there would leave a negative counter without expiry).
_REFUND = """
if redis.call('exists', KEYS[1]) == 1 then redis.call('decrby', KEYS[1], ARGV[1]) end
return 1
"""
Hit = tuple[RateLimitItem, list[str], int]  # the limit, its identifiers, the cost


class FixedWindowWithStats(FixedWindowRateLimiter):
    """Flask-Limiter's fixed window whose hit also remembers the window, so headers cost no round trip.

    ``prefetch`` counts several hits in one pipeline; ``hit`` then takes its count from there.
    """

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        if not isinstance(self.storage, RedisStorage):  # the in-memory fallback: nothing to save
            return super().hit(item, *identifiers, cost=cost)
        key = item.key_for(*identifiers)
        counted = _prefetched().pop((key, cost), None)
        if counted is None:
            counted = self._script(_HIT)([self.storage.prefixed_key(key)], [item.get_expiry(), cost])
        current, ttl = counted
        _windows()[key] = WindowStats(time.time() + max(int(ttl), 0), max(0, item.amount - int(current)))
        return int(current) <= item.amount

    def prefetch(self, hits: list[Hit]) -> None:
        """Count ``hits`` in one round trip; a failure leaves each hit to count itself (and fall back)."""
        if not hits or not self._batchable():
            return
        calls = [
            ([self.storage.prefixed_key(i.key_for(*ids))], [i.get_expiry(), cost]) for i, ids, cost in hits
        ]
        try:
            replies = self._pipelined(_HIT, calls)
        except RedisError:
            return
        prefetched = _prefetched()
        for (item, ids, cost), reply in zip(hits, replies, strict=True):
            prefetched[(item.key_for(*ids), cost)] = reply

    def refund_unused(self) -> None:
        """Hand back the prefetched hits that no check took (best effort)."""
        unused = g.pop("ratelimit_prefetched", None) if has_app_context() else None
        if unused and self._batchable():
            calls = [([self.storage.prefixed_key(key)], [cost]) for key, cost in unused]
            with contextlib.suppress(RedisError):
                self._pipelined(_REFUND, calls)

    def _batchable(self) -> bool:
        """Pipelines of EVALSHA: on one Redis. redis-py's cluster pipelines refuse scripts, so on a
        Redis Cluster each limit counts itself (one call each, on the node of its key)."""
        return isinstance(self.storage, RedisStorage) and not is_cluster(self.storage.get_connection())

    def _script(self, source: str) -> Script:
        """``source`` registered once per storage connection."""
        scripts: dict[str, Script] = self.storage.__dict__.setdefault("_memcache_scripts", {})
        if source not in scripts:
            scripts[source] = self.storage.get_connection().register_script(source)
        return scripts[source]

    def _pipelined(self, source: str, calls: list[tuple[list[str], list[object]]]) -> list[object]:
        """One EVALSHA per call in one pipeline; loads the script once if Redis lost it (and retries).

        EVALSHA on the pipeline directly: a ``Script`` object in a pipeline makes redis-py send a
        SCRIPT EXISTS first, a round trip of its own on every request.
        """
        script = self._script(source)
        for attempt in range(2):
            pipe = self.storage.get_connection().pipeline(transaction=False)
            for keys, args in calls:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            replies = pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in replies):
                break
            if attempt == 0:  # none of them ran: safe to load and send again
                script.sha = self.storage.get_connection().script_load(source)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        known = _windows().get(item.key_for(*identifiers))
        return known if known is not None else super().get_window_stats(item, *identifiers)


def _windows() -> dict[str, WindowStats]:
    """This request's windows, as the hits saw them (empty outside a request)."""
    if not has_app_context():
        return {}
    return g.setdefault("ratelimit_windows", {})


def _prefetched() -> dict[tuple[str, int], Any]:
    """This request's counts sent ahead by ``BatchedLimiter``, by window key and cost."""
    if not has_app_context():
        return {}
    return g.setdefault("ratelimit_prefetched", {})


STRATEGIES.setdefault(STRATEGY, FixedWindowWithStats)  # type: ignore[arg-type]


class BatchedLimiter(Limiter):
    """Flask-Limiter that sends the increments of all of a view's limits in one pipeline first."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        # Off (RATELIMIT_ENABLED false): no strategy at all. Redis marked dead: the in-memory one.
        strategy = self.limiter if self.enabled and self.initialized else None
        batching = not in_middleware and callable_name and isinstance(strategy, FixedWindowWithStats)
        if batching:
            strategy.prefetch(self._view_hits(callable_name))  # type: ignore[union-attr, arg-type]
        try:
            super()._check_request_limit(callable_name, in_middleware)
        finally:
            if batching:
                strategy.refund_unused()  # type: ignore[union-attr]

    def _view_hits(self, callable_name: str) -> list[Hit]:
        """The hits Flask-Limiter's evaluation will make for the view's decorated limits.

        The same exemptions, identifiers and costs as ``Limiter.__evaluate_limits``; a limit it
        resolves otherwise (none here: no default or blueprint limits) just counts itself.
        """
        endpoint = self.identify_request()
        if self._Limiter__check_all_limits_exempt(endpoint):  # type: ignore[attr-defined]
            return []
        hits: list[Hit] = []
        for lim in self.limit_manager.decorated_limits(callable_name):
            if lim.is_exempt or lim.method_exempt or lim.deduct_when:
                continue
            args = [lim.key_func(), lim.scope_for(endpoint, request.method)]
            if not all(args):
                continue
            if self._key_prefix:
                args = [self._key_prefix, *args]
            hits.append((lim.limit, args, lim.deduction_amount))
        return hits


def _key_identity() -> str:
    """A stable, non-secret name for the caller's key (or its address when it sent none)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    if token.strip():
        return "key-" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
    return "addr-" + (request.remote_addr or "unknown")


def path_user() -> str | None:
    """The ``user_id`` of the route's path (the v1 API)."""
    return (request.view_args or {}).get("user_id")


limiter = BatchedLimiter(key_func=_key_identity, headers_enabled=True, swallow_errors=True, strategy=STRATEGY)


def _budget(name: str) -> Callable[[], str]:
    return lambda: getattr(settings(), name)


def _per_user_and_key(
    kind: str, user_of: Callable[[], str | None], key_cost: Callable[[], int] | None = None
) -> Callable[[F], F]:
    """The ``kind`` budgets of the user that ``user_of`` names (none named: the key's alone) and the key.

    ``key_cost`` is what one request costs against the key's budget (default 1).
    """

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
    per_key = limiter.shared_limit(_budget(f"rate_limit_{kind}"), scope=f"key-{kind}", cost=key_cost or 1)

    def decorate(view: F) -> F:
        limited = per_user(per_key(view))

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            # Limits off: straight to the view. Flask-Limiter then registers no request hooks, but its
            # decorators still resolve the view's limits on every call (about 25 µs of an L2 hit's
            # 0.4 ms in gunicorn) to find nothing to count.
            return (limited if limiter.enabled else view)(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def write_limits(
    user_of: Callable[[], str | None] = path_user, key_cost: Callable[[], int] | None = None
) -> Callable[[F], F]:
    """Writes and deletes: the user's budget and the key's, shared by every write route."""
    return _per_user_and_key("writes", user_of, key_cost)


def body_records() -> int:
    """A batch's cost against the key's write budget: its records (each is a write's work in Mem0).

    Read before the view validates the body, so anything but a list of ``records`` costs 1 (the
    view answers 400 then), and no more is charged than a batch may hold.
    """
    try:
        records = json.loads(request.get_data(cache=True)).get("records")
    except Exception:  # noqa: BLE001 - malformed or too large: the view reports it
        return 1
    if not isinstance(records, list):
        return 1
    return max(1, min(len(records), settings().import_max_batch))


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
    if conf.redis_cluster:  # a LazyClusterStorage: the process starts even while every node is down
        # Its own client, with the cache's per-node breakers: the limiter's calls fail fast too.
        options = {"client": cache_cluster(conf.redis_url, **breaker)}
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
