"""Seeding users with memories quickly: raw L4 adds in the bench process, then one L3/L2 build each.

The adds are what a write stores (the extractor's fact text and metadata). The watermark is not
bumped (as for users written before any watermark existed: a rebuild need not wait for the burst
to settle), the user is registered and rebuilt in-process, so it starts clean and current.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bench.data import DataGen, UserData
from memcache_platform.extractors.rules import RulesExtractor

_extractor = RulesExtractor()


def add_memory(stack, user_id: str, text: str) -> None:
    """Store ``text`` for the user in L4 exactly as a rules-mode write would (without the hand-off)."""
    for fact in _extractor.extract([{"role": "user", "content": text}]):
        meta = fact.metadata() | {"extractor": "rules"}
        stack.platform.mem0.add(fact.text, user_id=user_id, metadata=meta)


def seed_users(
    stack, data: DataGen, prefix: str, n_users: int, n_memories: int, n_queries: int, *, build: bool = True
) -> list[UserData]:
    """``n_users`` users with memories in L4, registered, and (``build``) rebuilt so they start current."""
    users = [data.user(f"{prefix}-{i}", n_memories, n_queries) for i in range(n_users)]
    platform = stack.platform

    def seed(user: UserData) -> None:
        for text in user.memories:
            add_memory(stack, user.user_id, text)
        platform.registry.seen(user.user_id)
        if build:
            platform.proactive_cache.update_user_favorite_cache(user.user_id, force=True)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(seed, users))
    return users
