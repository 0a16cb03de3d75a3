"""Rate limits per API key on writes and searches (Flask-Limiter, counters in Redis).

Fails open: when Redis is away each process falls back to in-memory counters, so an outage
never turns writes away; the Redis circuit breaker makes that fallback cost no timeout. The key
is identified by a hash of it, never the key itself.
"""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter

from config.settings import Settings
from memcache_platform.api.context import settings
from memcache_platform.tiers.redis_client import cache_pool


def _key_identity() -> str:
    """A stable, non-secret name for the caller's key (or its address when it sent none)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    if token.strip():
        return "key-" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
    return "addr-" + (request.remote_addr or "unknown")


limiter = Limiter(key_func=_key_identity, headers_enabled=True, swallow_errors=True)


def write_limit() -> str:
    return settings().rate_limit_writes


def search_limit() -> str:
    return settings().rate_limit_searches


def init_app(app: Flask, conf: Settings) -> None:
    """Bind the limiter to ``app`` with the Redis of ``conf`` (short timeouts, fail open)."""
    app.config.update(
        RATELIMIT_STORAGE_URI=conf.rate_limit_storage_url,
        # The cache's pool kind: while the server's circuit breaker is open, each limiter call fails
        # at once, Flask-Limiter falls back to memory, and its periodic re-check (a PING) is free too.
        RATELIMIT_STORAGE_OPTIONS={
            "connection_pool": cache_pool(
                conf.rate_limit_storage_url,
                timeout_s=conf.cache_timeout_s,
                breaker_open_s=conf.redis_breaker_open_s,
                breaker_probe_s=conf.redis_breaker_probe_s,
            )
        },
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_ENABLED=conf.rate_limit_enabled,
    )
    limiter.init_app(app)
