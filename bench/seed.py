"""Seeding users with memories quickly: straight to L4 in the bench process, then one L3/L2 build each.

The adds are what a write stores (the extractor's fact text and metadata). The watermark is not
bumped (as for users written before any watermark existed: a rebuild need not wait for the burst
to settle), the user is registered and rebuilt in-process, so it starts clean and current.

Conversations (``bench/conversations.py``: hundreds of users with hundreds of turns) are replayed
in memory through the extractor and ``supersede.plan`` to the memories the write path would leave,
and each user's are written with the local backend's bulk add (``add_many``, the write path's
own: one vector-store insert, one history batch): seeding 200 users of 300 turns takes seconds,
where one Mem0 ``add`` per fact would take many minutes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.conversations import Conversation, Turn, describe
from bench.data import DataGen, UserData
from memcache_platform.clients.mem0 import NewMemory
from memcache_platform.extractors.base import Fact
from memcache_platform.extractors.rules import RulesExtractor
from memcache_platform.services import supersede
from memcache_platform.services.supersede import Known

_extractor = RulesExtractor()
EMBED_BATCH = 512  # texts per model call while seeding


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


# --- Conversations at realistic size: what L4 holds after them, written in bulk ---------------------


def replay(turns: Sequence[Turn]) -> list[Fact]:
    """The facts L4 holds after ``turns``, decided as the write path decides (extractor, then supersede).

    In memory, with no L4 round trip: the same ``supersede.plan`` over the state so far, turn after
    turn (ADD, UPDATE to the new value, DELETE, NONE), so hundreds of turns cost milliseconds.
    """
    state: dict[str, Fact] = {}
    for turn in turns:
        facts = _extractor.extract(turn.messages())
        if not facts:
            continue
        placeholders: dict[str, str] = {}  # plan's "new-<n>" of this turn's n-th ADD -> its id here
        for op in supersede.plan([Known(mid, fact) for mid, fact in state.items()], facts):
            if op.event == "ADD":
                placeholders[f"new-{len(placeholders) + 1}"] = memory_id = str(uuid.uuid4())
                state[memory_id] = op.fact
                continue
            memory_id = placeholders.get(op.memory_id or "", op.memory_id or "")
            if op.event == "UPDATE":
                state[memory_id] = op.fact
            elif op.event == "DELETE":
                state.pop(memory_id, None)
    return list(state.values())


def write_l4(stack, user_id: str, facts: Sequence[Fact], vectors: dict[str, list[float]]) -> None:
    """Store ``facts`` for the user as the write path stores a request's ADDs, with vectors computed ahead."""
    memories = [NewMemory(f.text, f.metadata() | {"extractor": "rules"}) for f in facts]
    stack.platform.mem0.backend.add_many(memories, user_id=user_id, run_id=None, vectors=vectors)


def seed_conversations(stack, conversations: Sequence[Conversation], *, build: bool = True) -> dict[str, Any]:
    """Each user's state after their conversation in L4, registered, and (``build``) rebuilt.

    Texts repeat across users ("Likes hiking"): each distinct text is embedded once, in batches.
    Returns the data set's size and the seconds each step took.
    """
    started = time.perf_counter()
    states = [replay(c.turns) for c in conversations]
    replay_s = time.perf_counter() - started
    texts = list(dict.fromkeys(f.text for facts in states for f in facts))
    embedder = stack.platform.mem0.backend.memory.embedding_model
    vectors: dict[str, list[float]] = {}
    for start in range(0, len(texts), EMBED_BATCH):
        chunk = texts[start : start + EMBED_BATCH]
        vectors.update(zip(chunk, embedder.embed_batch(chunk, "add"), strict=True))
    embed_s = time.perf_counter() - started - replay_s
    platform = stack.platform

    def seed(item: tuple[Conversation, list[Fact]]) -> None:
        conversation, facts = item
        write_l4(stack, conversation.user_id, facts, vectors)
        platform.registry.seen(conversation.user_id)
        if build:
            platform.proactive_cache.update_user_favorite_cache(conversation.user_id, force=True)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(seed, zip(conversations, states, strict=True)))
    return describe(conversations, [len(s) for s in states]) | {
        "distinct_texts": len(texts),
        "seed_s": {
            "replay": round(replay_s, 2),
            "embed": round(embed_s, 2),
            "total": round(time.perf_counter() - started, 2),
        },
    }
