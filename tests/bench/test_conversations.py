"""The conversational data generator: deterministic, sized, and stating facts the real extractor reads.

The last test seeds a conversation in bulk (``bench.seed``) and writes the same turns through the
real write path for another user: Mem0 must end up holding the same memories, rows of the same shape.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

from bench.conversations import FILLERS, SIZES, ConversationGen, describe
from bench.seed import replay, seed_conversations
from memcache_platform.extractors.rules import RulesExtractor

EXTRACTOR = RulesExtractor()


def test_the_same_seed_gives_the_same_data_and_a_user_does_not_depend_on_the_size():
    one, again = ConversationGen(seed=5), ConversationGen(seed=5)
    assert one.conversations("u", 3, 40) == again.conversations("u", 3, 40)
    assert ConversationGen(seed=6).conversation("u", 0, 40) != one.conversation("u", 0, 40)
    longer = one.conversation("u", 2, 60)  # user 2 of a bigger, longer data set starts the same
    assert longer.turns[:40] == one.conversations("u", 5, 40)[2].turns
    assert one.continued(one.conversation("u", 2, 40), 20) == longer.turns[40:]


def test_sizes_grow_to_hundreds_of_users_and_turns():
    assert SIZES["tiny"]["users"] * SIZES["tiny"]["turns"] < 100  # the harness stays fast
    assert SIZES["full"]["users"] >= 200 and SIZES["full"]["turns"] >= 200
    conversations = ConversationGen().conversations("u", 4, 30)
    assert [len(c.turns) for c in conversations] == [30] * 4
    assert describe(conversations)["turns"] == 120


def test_every_turn_states_exactly_the_facts_the_real_extractor_finds():
    kinds: Counter[tuple[str, bool]] = Counter()
    for conversation in ConversationGen(seed=3).conversations("u", 6, 120):
        for turn in conversation.turns:
            found = [
                (f.category, None if f.category == "other" else f.value, f.retract)
                for f in EXTRACTOR.extract(turn.messages())
            ]
            assert found == [(e.category, e.value, e.retract) for e in turn.facts], turn.text
            kinds.update((e.category, e.retract) for e in turn.facts)
    # Every kind the supersede rules know appears, retractions included.
    assert {c for c, _ in kinds} == {"favorite", "dislike", "skill", "profile", "other"}
    assert kinds[("favorite", True)] > 0


def test_fillers_state_nothing_and_turns_mix_them_in():
    assert all(EXTRACTOR.extract([{"role": "user", "content": text}]) == [] for text in FILLERS)
    turns = [t for c in ConversationGen().conversations("u", 3, 100) for t in c.turns]
    assert any(not t.facts for t in turns) and any(len(t.facts) >= 3 for t in turns)
    assert (
        sum(t.text.count(".") + t.text.count("?") + t.text.count("!") for t in turns) > 2 * len(turns) * 0.9
    )


def test_conversations_change_their_minds_and_repeat_themselves():
    conversation = ConversationGen(seed=9).conversation("u", 0, 200)
    stated = sum(len(t.facts) for t in conversation.turns)
    kept = replay(conversation.turns)
    assert 50 < len(kept) < stated  # updates, retractions and restatements stored nothing new
    favourites = [f.topic for f in kept if f.category == "favorite" and f.topic != "general"]
    assert len(favourites) == len(set(favourites))  # one favourite per topic, however often it changed


def test_questions_follow_zipf_and_repeat():
    gen = ConversationGen(seed=4)
    conversations = gen.conversations("u", 20, 60)
    stream = gen.query_stream(conversations, 2000)
    assert stream == gen.query_stream(conversations, 2000)
    users = Counter(u for u, _ in stream)
    assert users[0] > users[10] > 0 and users[0] > 2000 / 20 * 2  # popular users are asked most
    asked = Counter(stream)
    assert asked.most_common(1)[0][1] > 50 and len(asked) < 2000 / 2  # the same questions come back
    assert all(q in conversations[u].queries for u, q in stream)


@pytest.mark.integration
def test_bulk_seeding_stores_what_the_write_path_stores(platform, write):
    conversation = ConversationGen(seed=2).conversation("u", 0, 25)
    seeded, written = f"seeded-{id(conversation)}", f"written-{id(conversation)}"
    for turn in conversation.turns:
        if turn.facts:
            write(written, turn.text)
    copy = SimpleNamespace(user_id=seeded, turns=conversation.turns, queries=conversation.queries)
    figures = seed_conversations(SimpleNamespace(platform=platform), [copy], build=False)
    assert figures["users"] == 1 and figures["memories_per_user"]["mean"] > 10

    def rows(user: str) -> list[tuple]:
        records = platform.mem0.get_all(user_id=user)
        return sorted((r.memory, tuple(sorted(r.metadata.items()))) for r in records)

    assert rows(seeded) == rows(written)
    vector_store = platform.mem0.backend.memory.vector_store

    def keys(user: str) -> set[str]:
        (found,) = vector_store.list(filters={"user_id": user}, top_k=1000)
        return {key for row in found for key in row.payload}

    assert keys(seeded) == keys(written)
    first = platform.mem0.get_all(user_id=seeded)[0]
    assert [h["event"] for h in platform.mem0.history(first.id)] == ["ADD"]
