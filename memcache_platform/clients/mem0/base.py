"""What every Mem0 backend returns and raises: ``MemoryRecord``, the backend protocol, error mapping."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from memcache_platform.errors import (
    InvalidInput,
    MemoryNotFound,
    MemoryStoreError,
    MemoryStoreUnavailable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemoryRecord:
    """One memory as the platform sees it, whichever backend stored it."""

    id: str
    memory: str
    user_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    score: float | None = None
    run_id: str | None = None
    # Set, with an empty ``id``, for an add the hosted platform accepted but has not processed yet.
    event_id: str | None = None

    @property
    def pending(self) -> bool:
        """True for an accepted add whose Mem0 event has not finished (no id, not searchable yet)."""
        return self.event_id is not None and not self.id

    @property
    def category(self) -> str | None:
        return self.metadata.get("category")

    @classmethod
    def from_mem0(cls, item: dict[str, Any]) -> MemoryRecord:
        return cls(
            id=str(item["id"]),
            memory=item.get("memory") or "",
            user_id=item.get("user_id"),
            metadata=dict(item.get("metadata") or {}),
            created_at=item.get("created_at"),
            updated_at=item.get("updated_at"),
            score=item.get("score"),
            run_id=item.get("run_id"),
        )


@dataclass(frozen=True)
class NewMemory:
    """One memory for ``add_many``: its text, stored as is (``infer=False``), and its own metadata."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


class AddInterrupted(Exception):  # noqa: N818 - a state, not a bug: some of the adds are stored
    """``add_many`` failed after storing some memories: ``stored`` holds their answers, in order.

    The failure itself is the ``__cause__``.
    """

    def __init__(self, stored: list[list[dict[str, Any]]]) -> None:
        super().__init__(f"{len(stored)} memories were stored before the failure")
        self.stored = stored


class Mem0Backend(Protocol):
    """What each backend provides; results are Mem0's own dicts."""

    def add(
        self,
        messages: list[dict[str, str]],
        *,
        user_id: str,
        metadata: dict[str, Any],
        infer: bool,
        run_id: str | None,
    ) -> list[dict[str, Any]]: ...
    def add_many(
        self, memories: Sequence[NewMemory], *, user_id: str, run_id: str | None
    ) -> list[list[dict[str, Any]]]:
        """What ``add(infer=False)`` of each memory would store, in as few round trips as the backend allows.

        Returns each memory's add answer, in order; ``AddInterrupted`` when it failed part way.
        """
        ...

    def get(self, memory_id: str) -> dict[str, Any] | None: ...
    def get_all(self, *, user_id: str, limit: int) -> list[dict[str, Any]]: ...
    def search(self, query: str, *, user_id: str, limit: int, run_id: str | None) -> list[dict[str, Any]]: ...
    def delete(self, memory_id: str) -> None: ...
    def ping(self) -> None: ...
    def list_users(self) -> list[str]: ...
    def update(
        self, memory_id: str, text: str, *, metadata: dict[str, Any] | None, drop_metadata: Sequence[str] = ()
    ) -> None: ...
    def history(self, memory_id: str) -> list[dict[str, Any]]: ...
    def erase_user(self, user_id: str) -> int: ...
    def user_stats(self) -> dict[str, tuple[int, datetime | None]]: ...
    def embedding_batch(self, texts: Sequence[str]) -> AbstractContextManager[None]: ...


def translate_error(operation: str, exc: Exception) -> Exception:
    """Map an exception raised inside Mem0 to the platform's exception types."""
    if isinstance(exc, MemoryNotFound | InvalidInput | AddInterrupted):
        return exc
    from mem0 import exceptions as mem0_errors

    text = str(exc) or type(exc).__name__
    if isinstance(exc, ValueError) and "not found" in text.lower():
        return MemoryNotFound(text)
    if isinstance(exc, mem0_errors.MemoryNotFoundError):
        return MemoryNotFound(text)
    if isinstance(exc, mem0_errors.ValidationError):
        return InvalidInput(f"Mem0 refused the {operation}: {text}")
    if isinstance(exc, ConnectionError | OSError | TimeoutError | mem0_errors.NetworkError) or _is_db_outage(
        exc
    ):
        return MemoryStoreUnavailable(f"Mem0 {operation} failed: its store is unreachable ({text})")
    log.warning("mem0 %s failed", operation, exc_info=exc)
    return MemoryStoreError(f"Mem0 {operation} failed: {text}")


def _is_db_outage(exc: Exception) -> bool:
    """True for errors that mean PostgreSQL is down or the pool is exhausted, not a bad request."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | psycopg_pool.PoolTimeout)
