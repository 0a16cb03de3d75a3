"""Listing and deleting a user's memories in L4; a delete hands off a rebuild like a write."""

from __future__ import annotations

from collections.abc import Callable

from memcache_platform.clients.mem0_client import Mem0ClientWrapper
from memcache_platform.services.extraction import StoredMemory
from memcache_platform.services.handoff import HandoffResult


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
