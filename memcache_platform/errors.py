"""The platform's own exception types; each carries an error code and an HTTP status."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "platform_error"
    status = 500

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code


class InvalidInput(PlatformError):
    """The caller sent something the platform cannot accept."""

    code = "invalid_input"
    status = 400


class MemoryStoreError(PlatformError):
    """Mem0 (L4) failed for a reason that retrying will not fix."""

    code = "memory_store_error"
    status = 502


class MemoryStoreUnavailable(MemoryStoreError):
    """Mem0 (L4) or its database could not be reached; retrying later may work."""

    code = "memory_store_unavailable"
    status = 503


class MemoryStoreTimeout(MemoryStoreUnavailable):
    """A Mem0 call did not finish within ``MEMCACHE_MEM0_TIMEOUT_S``."""

    code = "memory_store_timeout"
    status = 503


class MemoryNotFound(PlatformError):
    """No memory with that id exists for that user."""

    code = "memory_not_found"
    status = 404


class CacheUnavailable(PlatformError):
    """A cache tier (Redis or the L3 database) could not be reached."""

    code = "cache_unavailable"
    status = 503
