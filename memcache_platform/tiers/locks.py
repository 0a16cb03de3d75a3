"""Short leases in Redis (``SET NX PX`` with a token), released only by their owner."""

from __future__ import annotations

import contextlib
import secrets

import redis

from memcache_platform.tiers.redis_client import REDIS_ERRORS, redis_errors

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Free, or held by this very owner (a redelivery of the task whose worker died holding it): ours.
_ACQUIRE_AS = """
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Leases:
    """Acquire and release leases; a lease that is never released expires by itself."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._acquire_as = client.register_script(_ACQUIRE_AS)

    def acquire(self, key: str, ttl_ms: int, owner: str | None = None) -> str | None:
        """A token when the lease was free and is now ours, else None.

        With ``owner`` the token is the owner, and a lease that owner already holds is taken over: a
        Celery task redelivered after its worker was SIGKILLed has the same id as the dead holder,
        and must not wait out the lease of its own former run.
        """
        with redis_errors(f"lease {key} unavailable"):
            if owner is not None:
                return owner if self._acquire_as(keys=[key], args=[owner, ttl_ms]) else None
            token = secrets.token_hex(8)
            return token if self.client.set(key, token, nx=True, px=ttl_ms) else None

    def renew(self, key: str, token: str, ttl_ms: int) -> bool:
        """Extend a lease we still hold; False if it expired (or Redis is away)."""
        try:
            return bool(self._renew(keys=[key], args=[token, ttl_ms]))
        except REDIS_ERRORS:
            return False

    def release(self, key: str, token: str) -> None:
        """Release the lease if it is still ours (it may have expired and passed to another owner)."""
        with contextlib.suppress(*REDIS_ERRORS):  # it expires by itself
            self._release(keys=[key], args=[token])
