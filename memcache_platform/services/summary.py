"""Turning a user's memories into the favourites summary that L3 stores and the API serves."""

from __future__ import annotations

import hashlib
from collections import Counter

from memcache_platform.clients.mem0 import MemoryRecord
from memcache_platform.domain import FavoriteSummary
from memcache_platform.extractors import CATEGORIES, Fact, RulesExtractor

TOP_SKILLS = 10
_classifier = RulesExtractor()
__all__ = ["FavoriteSummary", "fact_of", "fingerprint", "summarize"]


def fact_of(record: MemoryRecord) -> Fact:
    """The categorised fact of a memory: from its metadata, else classified from its text.

    Memories written by the ``llm`` extractor or by other applications carry no category.
    """
    meta = record.metadata
    if meta.get("category") in CATEGORIES:
        return Fact(record.memory, meta["category"], meta.get("topic"), meta.get("value"))
    return _classifier.classify(record.memory)


def summarize(records: list[MemoryRecord]) -> FavoriteSummary:
    """Aggregate memories (oldest first) into a ``FavoriteSummary``."""
    summary = FavoriteSummary(memory_count=len(records))
    skills: Counter[str] = Counter()
    skill_names: dict[str, str] = {}
    counts: Counter[str] = Counter()
    facts = [fact_of(record) for record in records]
    for fact in reversed(facts):  # latest first, so the newest favourite leads its list
        counts[fact.category] += 1
        value = fact.value or fact.text
        if fact.category in ("favorite", "dislike"):
            bucket = summary.favorites if fact.category == "favorite" else summary.dislikes
            values = bucket.setdefault(fact.topic or "general", [])
            if value.casefold() not in (v.casefold() for v in values):
                values.append(value)
        elif fact.category == "profile" and fact.topic:
            summary.profile.setdefault(fact.topic, value)
    for fact in facts:  # oldest first: among equally mentioned skills, the first named leads
        if fact.category == "skill":
            value = fact.value or fact.text
            skills[value.casefold()] += 1
            skill_names.setdefault(value.casefold(), value)
    summary.top_skills = [skill_names[key] for key, _ in skills.most_common(TOP_SKILLS)]
    summary.counts = dict(sorted(counts.items()))
    return summary


def fingerprint(records: list[MemoryRecord]) -> str:
    """A digest of the L4 content a build read: ids and update times."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r.id):
        digest.update(f"{record.id}|{record.updated_at or record.created_at or ''}\n".encode())
    return digest.hexdigest()
