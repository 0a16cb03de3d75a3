"""The user registry: every user that has memories, without making the write path depend on L3.

Three sources, unioned: users seen by writes (best effort, the Redis set ``mc:users``), users in
L3, and a reconciliation against L4 itself (what a lost registry write or a Redis flush missed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from memcache_platform.errors import CacheUnavailable, MemoryStoreError
from memcache_platform.tiers.known_users import KnownUsers
from memcache_platform.tiers.l3_store import L3Store

log = logging.getLogger(__name__)


class UserRegistry:
    """Knows every user id; each source may be down without failing the others."""

    def __init__(self, known: KnownUsers, l3: L3Store, l4_users: Callable[[], list[str]]) -> None:
        self.known = known
        self.l3 = l3
        self.l4_users = l4_users

    def seen(self, user_id: str) -> None:
        """Record a user on the write path; raises ``CacheUnavailable`` (callers ignore it)."""
        self.known.add(user_id)

    def forget(self, user_id: str) -> None:
        """Drop a user from the Redis set (when the user is erased)."""
        self.known.remove(user_id)

    def all_users(self, *, reconcile: bool = True) -> list[str]:
        """Sorted user ids from every source that answers (L4 only when ``reconcile``)."""
        users: set[str] = set()
        try:
            users.update(self.known.members())
        except CacheUnavailable as exc:
            log.warning("registry: %s", exc)
        try:
            users.update(self.l3.build_states())
        except CacheUnavailable as exc:
            log.warning("registry: L3 unavailable (%s)", exc)
        if reconcile:
            try:
                users.update(self.l4_users())
            except MemoryStoreError as exc:
                log.warning("registry: L4 users unavailable (%s)", exc)
        return sorted(users)
