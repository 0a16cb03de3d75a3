"""Facts that supersede: what a new fact of the ``rules`` extractor does to the user's stored ones.

Mem0's own ``infer=True`` decides ADD / UPDATE / DELETE / NONE with an LLM; the ``rules`` extractor
decides the same deterministically, from each fact's kind:

- a favourite of a topic ("my favourite number is 7"): one per topic, replaces the earlier (UPDATE);
- name, age, location, origin, employer, job ("I live in Paris"): one each, replaces (UPDATE);
- a like ("I love sushi"): accumulates, and removes a dislike of the same thing (DELETE);
- a dislike ("I hate cilantro"): accumulates, and removes a like of the same thing (DELETE);
- a skill ("I'm good at Python") and anything else ("I have two cats"): accumulate;
- a retraction ("I don't like sushi anymore", "my favourite colour is no longer blue"): removes the
  matching like or favourite (DELETE); with nothing to remove, a no-op;
- anything restated (the same kind and value again): a no-op (NONE).

An UPDATE goes through Mem0's ``update``, so Mem0's history keeps the old value. Within one request
the last statement of a single-valued kind wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from memcache_platform.extractors.base import Fact

SINGLE_PROFILE_TOPICS = frozenset({"name", "age", "location", "origin", "employer", "job"})
GENERAL = "general"
Event = Literal["ADD", "UPDATE", "DELETE", "NONE"]


@dataclass(frozen=True)
class Known:
    """A memory the user already has, with the fact it holds."""

    id: str
    fact: Fact


@dataclass(frozen=True)
class Op:
    """One decision: ADD ``fact``; UPDATE memory ``memory_id`` to ``fact``; DELETE it; or NONE."""

    event: Event
    fact: Fact
    memory_id: str | None = None


def single_key(fact: Fact) -> tuple[str, str] | None:
    """The slot a single-valued fact occupies (one per user), or None for kinds that accumulate."""
    if fact.category == "favorite" and fact.topic and fact.topic != GENERAL:
        return ("favorite", fact.topic)
    if fact.category == "profile" and fact.topic in SINGLE_PROFILE_TOPICS:
        return ("profile", fact.topic)
    return None


def identity(fact: Fact) -> tuple[str, str | None, str]:
    """What makes two facts the same statement: kind and value (text for ``other``), any case."""
    if fact.category == "other" or not fact.value:
        return (fact.category, None, fact.text.casefold())
    return (fact.category, fact.topic, fact.value.casefold())


def _opposite(fact: Fact) -> str | None:
    return (
        {"favorite": "dislike", "dislike": "favorite"}.get(fact.category) if fact.topic == GENERAL else None
    )


def plan(known: Sequence[Known], facts: Sequence[Fact]) -> list[Op]:
    """The operations that bring ``known`` in line with ``facts`` (in order), per the table above."""
    state: dict[str, Fact] = {k.id: k.fact for k in known}
    ops: list[Op] = []
    facts = _last_of_each_slot(facts)
    added = 0
    for fact in facts:
        if fact.retract:
            ops.extend(_retract(state, fact))
            continue
        same = [mid for mid, f in state.items() if identity(f) == identity(fact)]
        if same:
            ops.append(Op("NONE", fact, same[-1]))
            continue
        if (opposite := _opposite(fact)) is not None:
            value = (fact.value or "").casefold()
            for mid, f in list(state.items()):
                if f.category == opposite and f.topic == GENERAL and (f.value or "").casefold() == value:
                    ops.append(Op("DELETE", f, mid))
                    del state[mid]
        slot = single_key(fact)
        holders = [mid for mid, f in state.items() if slot is not None and single_key(f) == slot]
        if holders:
            *older, newest = holders  # legacy duplicates of a slot collapse into the newest
            ops.extend(Op("DELETE", state.pop(mid), mid) for mid in older)
            ops.append(Op("UPDATE", fact, newest))
            state[newest] = fact
        else:
            added += 1
            ops.append(Op("ADD", fact))
            state[f"new-{added}"] = fact
    return ops


def _retract(state: dict[str, Fact], fact: Fact) -> list[Op]:
    """DELETE the likes (general) or the favourite of the topic that ``fact`` takes back."""
    value = (fact.value or "").casefold()
    ops = []
    for mid, f in list(state.items()):
        if f.category != "favorite" or (f.topic or GENERAL) != (fact.topic or GENERAL):
            continue
        if not value or (f.value or "").casefold() == value:
            ops.append(Op("DELETE", f, mid))
            del state[mid]
    return ops or [Op("NONE", fact)]


def _last_of_each_slot(facts: Sequence[Fact]) -> list[Fact]:
    """Within one request, a later statement of a single-valued kind replaces an earlier one."""
    last: dict[tuple[str, str], int] = {}
    for i, fact in enumerate(facts):
        if not fact.retract and (slot := single_key(fact)) is not None:
            last[slot] = i
    return [f for i, f in enumerate(facts) if f.retract or (slot := single_key(f)) is None or last[slot] == i]
