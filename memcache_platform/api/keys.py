"""API keys and what each may reach.

``MEMCACHE_API_KEYS`` entries are ``KEY`` (every user), ``KEY=prefix*`` (a tenant: user ids that
start with ``prefix``) or ``KEY=alice|bob`` (those users only). ``MEMCACHE_ADMIN_API_KEYS`` entries
are plain keys that reach every user and the admin routes. Keys must not contain ``,`` or ``=``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ApiKey:
    """One configured key; ``name`` identifies it in logs and rate limits without revealing it."""

    secret: str
    admin: bool = False
    users: frozenset[str] | None = None
    prefix: str | None = None

    @property
    def name(self) -> str:
        return "key-" + hashlib.sha256(self.secret.encode()).hexdigest()[:12]

    @property
    def restricted(self) -> bool:
        return self.users is not None or self.prefix is not None

    def allows(self, user_id: str) -> bool:
        """May this key read and write ``user_id``?"""
        if self.users is not None:
            return user_id in self.users
        if self.prefix is not None:
            return user_id.startswith(self.prefix)
        return True


def _parse(entry: str, *, admin: bool) -> ApiKey:
    secret, _, scope = entry.partition("=")
    if admin or not scope:
        return ApiKey(secret.strip(), admin=admin)
    scope = scope.strip()
    if scope.endswith("*"):
        return ApiKey(secret.strip(), prefix=scope[:-1])
    return ApiKey(secret.strip(), users=frozenset(u for u in scope.split("|") if u))


@lru_cache(maxsize=8)
def parse_keys(api_keys: tuple[str, ...], admin_keys: tuple[str, ...]) -> tuple[ApiKey, ...]:
    """Every configured key, admin keys first."""
    return tuple(_parse(e, admin=True) for e in admin_keys) + tuple(_parse(e, admin=False) for e in api_keys)


def find_key(candidate: str, keys: tuple[ApiKey, ...]) -> ApiKey | None:
    """The key equal to ``candidate``, compared in constant time against every key."""
    found = None
    for key in keys:
        if hmac.compare_digest(candidate.encode(), key.secret.encode()) and found is None:
            found = key
    return found
