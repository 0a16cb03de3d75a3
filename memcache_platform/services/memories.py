"""Listing and deleting a user's memories in L4; a delete hands off a rebuild like a write."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from memcache_platform.clients.mem0 import Mem0ClientWrapper, MemoryRecord
from memcache_platform.errors import MemoryNotFound
from memcache_platform.services.extraction import StoredMemory
from memcache_platform.services.handoff import HandoffResult


def _derived(text: str, sent: Mapping[str, Any] | None = None) -> dict[str, object]:
    """The category, topic and value the tiers summarise, re-derived from a memory's new text.

    A text the rules read nothing in ("other") keeps the fact ``sent`` names, if of a known
    category: what a fronting platform's hosted backend sends with the fact its extractor found
    (its canonical texts, "Favourite drink is coffee", classify back to that fact anyway).
    """
    from memcache_platform.extractors import CATEGORIES, RulesExtractor

    fact = RulesExtractor().classify(text)
    if fact.category == "other" and sent and sent.get("category") in CATEGORIES:
        return {key: sent.get(key) for key in ("category", "topic", "value")}
    return {"category": fact.category, "topic": fact.topic, "value": fact.value}


class MemoryService:
    """Reads and deletes memories of one user."""

    def __init__(self, mem0: Mem0ClientWrapper, handoff: Callable[[str], HandoffResult]) -> None:
        self.mem0 = mem0
        self.handoff = handoff

    def list(self, user_id: str) -> list[tuple[StoredMemory, dict[str, object]]]:
        """Every memory of the user from L4, oldest first, with its timestamps and session."""
        return [
            (
                StoredMemory.of(r),
                {"created_at": r.created_at, "updated_at": r.updated_at, "session_id": r.run_id},
            )
            for r in self.mem0.get_all(user_id=user_id)
        ]

    def delete(self, user_id: str, memory_id: str) -> HandoffResult:
        """Delete one memory of the user in L4, then hand off the rebuild."""
        self.mem0.delete(memory_id, user_id=user_id)
        return self.handoff(user_id)

    def find(self, memory_id: str) -> MemoryRecord:
        """One memory by its id alone, with its owner; ``MemoryNotFound`` also for a memory of no user."""
        record = self.mem0.get(memory_id)
        if not record.user_id:
            raise MemoryNotFound(f"memory {memory_id} not found")
        return record

    def get(self, user_id: str, memory_id: str) -> MemoryRecord:
        """One memory of the user; ``MemoryNotFound`` when missing or owned by another user."""
        return self.mem0.get(memory_id, user_id=user_id)

    def records(self, user_id: str) -> list[MemoryRecord]:
        """Every memory of the user from L4, oldest first, with all of Mem0's fields (metadata included)."""
        return self.mem0.get_all(user_id=user_id)

    def update(
        self, user_id: str, memory_id: str, text: str, metadata: Mapping[str, Any] | None = None
    ) -> tuple[MemoryRecord, HandoffResult]:
        """Replace the text (and, given ``metadata``, the metadata) of one memory in L4; hand off.

        The category, topic and value the tiers summarise are re-derived from the new text, whatever
        ``metadata`` says, so the favourites never keep the old value of an edited memory. Given,
        ``metadata`` replaces the caller's keys as the hosted platform's PUT does; reserved keys stay.
        """
        if metadata is None:
            record = self.mem0.update(memory_id, text, user_id=user_id, metadata=_derived(text))
        else:
            meta = dict(metadata) | _derived(text, metadata)
            record = self.mem0.update(memory_id, text, user_id=user_id, metadata=meta, replace_metadata=True)
        return record, self.handoff(user_id)

    def history(self, user_id: str, memory_id: str) -> list[dict[str, object]]:
        """Mem0's change log of one memory of the user, oldest first."""
        self.mem0.get(memory_id, user_id=user_id)
        return self.mem0.history(memory_id)

    def delete_all(self, user_id: str) -> tuple[int, HandoffResult | None]:
        """Delete every memory of the user in L4, then hand off one rebuild (none if there was nothing)."""
        deleted = 0
        try:
            for record in self.mem0.get_all(user_id=user_id):
                self.mem0.delete(record.id)
                deleted += 1
        except Exception:
            if deleted:
                self.handoff(user_id)  # what was deleted stays deleted: the tiers must learn it
            raise
        return deleted, (self.handoff(user_id) if deleted else None)

    def batch_update(self, edits: list[tuple[str, str, str]]) -> tuple[int, dict[str, HandoffResult]]:
        """Apply ``(user_id, memory_id, text)`` edits in order, then hand off one rebuild per user."""

        def edit(item: tuple[str, str, str]) -> None:
            self.mem0.update(item[1], item[2], user_id=item[0], metadata=_derived(item[2]))

        return self._per_user(edits, edit)

    def batch_delete(self, targets: list[tuple[str, str]]) -> tuple[int, dict[str, HandoffResult]]:
        """Delete ``(user_id, memory_id)`` memories in L4, then hand off one rebuild per user."""
        return self._per_user(targets, lambda item: self.mem0.delete(item[1], user_id=item[0]))

    def _per_user(
        self, items: list[Any], write: Callable[[Any], None]
    ) -> tuple[int, dict[str, HandoffResult]]:
        """Write each item (its user first), then one hand-off per user touched, even if a write failed."""
        touched: list[str] = []
        try:
            for item in items:
                write(item)
                if item[0] not in touched:
                    touched.append(item[0])
        except Exception:
            for user_id in touched:  # what was written stays written: the tiers must learn it
                self.handoff(user_id)
            raise
        return len(items), {user_id: self.handoff(user_id) for user_id in touched}
