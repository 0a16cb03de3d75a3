"""Rate limits per API key on writes and searches (Flask-Limiter, counters in Redis).

Fails open: when Redis is away each process falls back to in-memory counters, so an outage
never turns writes away. The key is identified by a hash of it, never the key itself.
"""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter

from config.settings import Settings
from memcache_platform.api.context import settings


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
        RATELIMIT_STORAGE_OPTIONS={
            "socket_timeout": conf.cache_timeout_s,
            "socket_connect_timeout": conf.cache_timeout_s,
        },
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_ENABLED=conf.rate_limit_enabled,
    )
    limiter.init_app(app)
