"""``Mem0ClientWrapper``: bounded, typed access to whichever backend the settings name."""

from __future__ import annotations

import concurrent.futures
import contextlib
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from config.settings import Settings
from memcache_platform import metrics
from memcache_platform.clients.mem0.base import (
    AddInterrupted,
    Mem0Backend,
    MemoryRecord,
    NewMemory,
    translate_error,
)
from memcache_platform.clients.mem0.hosted import HostedMem0Backend
from memcache_platform.clients.mem0.local import LocalMem0Backend
from memcache_platform.errors import (
    MemoryNotFound,
    MemoryStoreError,
    MemoryStoreTimeout,
)
from memcache_platform.ids import RESERVED_METADATA_KEYS
from memcache_platform.tiers.l1_embeddings import EmbeddingCache

T = TypeVar("T")


class Mem0ClientWrapper:
    """Bounded, typed access to Mem0: add, get, get_all, search, delete."""

    def __init__(self, backend: Mem0Backend, *, timeout_s: float, get_all_limit: int = 10_000) -> None:
        self.backend = backend
        self.timeout_s = timeout_s
        self.get_all_limit = get_all_limit
        # Calls run on this pool so a hung Mem0 or database costs the caller at most timeout_s.
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="mem0")

    @classmethod
    def from_settings(
        cls, settings: Settings, embedding_cache: EmbeddingCache | None = None
    ) -> Mem0ClientWrapper:
        backend_cls = HostedMem0Backend if settings.mem0_backend == "hosted" else LocalMem0Backend
        return cls(
            backend_cls(settings, embedding_cache),
            timeout_s=settings.mem0_timeout_s,
            get_all_limit=settings.mem0_get_all_limit,
        )

    def add(
        self,
        content: str | list[dict[str, str]],
        *,
        user_id: str,
        metadata: dict[str, Any] | None = None,
        infer: bool = False,
        run_id: str | None = None,
    ) -> list[MemoryRecord]:
        """Store ``content`` as is (``infer=False``), or let Mem0's LLM extract facts (``infer=True``)."""
        messages = [{"role": "user", "content": content}] if isinstance(content, str) else content
        items = self._call(
            "add",
            lambda: self.backend.add(
                messages, user_id=user_id, metadata=metadata or {}, infer=infer, run_id=run_id
            ),
        )
        text = " ".join(m.get("content", "") for m in messages)
        return _records(items, text, user_id=user_id, metadata=metadata or {}, run_id=run_id)

    def add_many(
        self, memories: Sequence[NewMemory], *, user_id: str, run_id: str | None = None
    ) -> list[MemoryRecord]:
        """Store each memory as is (``infer=False``) in one bulk call: the record of each, in order.

        ``AddsInterrupted`` (with the records stored) when the backend failed after storing some.
        """
        if not memories:
            return []
        try:
            answers = self._call(
                "add_many", lambda: self.backend.add_many(memories, user_id=user_id, run_id=run_id)
            )
        except AddInterrupted as exc:
            stored = self._one_each(memories, exc.stored, user_id, run_id)
            raise AddsInterrupted(translate_error("add_many", exc.__cause__ or exc), stored) from exc
        if len(answers) != len(memories):
            raise MemoryStoreError(f"Mem0 answered {len(answers)} adds for {len(memories)} memories")
        return self._one_each(memories, answers, user_id, run_id)

    @staticmethod
    def _one_each(
        memories: Sequence[NewMemory], answers: list[list[dict[str, Any]]], user_id: str, run_id: str | None
    ) -> list[MemoryRecord]:
        """The record of each memory from its add answer; an answer of another size is Mem0's error."""
        records = []
        for memory, items in zip(memories, answers, strict=False):
            found = _records(items, memory.text, user_id=user_id, metadata=memory.metadata, run_id=run_id)
            if len(found) != 1:
                raise MemoryStoreError(f"Mem0 answered {len(found)} memories for one add of {memory.text!r}")
            records += found
        return records

    def get_event(self, event_id: str) -> dict[str, Any]:
        """A queued add's state: ``{"status": PENDING|RUNNING|SUCCEEDED|FAILED, "results": [...]}``."""
        get_event = getattr(self.backend, "get_event", None)
        if get_event is None:  # the local backend writes synchronously: it queues nothing
            raise MemoryNotFound(f"event {event_id} not found: this backend queues no adds")
        return self._call("get_event", lambda: get_event(event_id))

    def embedding_batch(self, texts: Sequence[str]) -> contextlib.AbstractContextManager[None]:
        """Inside, the adds and updates of ``texts`` use embeddings computed in one model call."""
        batch = getattr(self.backend, "embedding_batch", None)  # a backend may have no embedder of its own
        return batch(texts) if batch is not None and texts else contextlib.nullcontext()

    def get(self, memory_id: str, *, user_id: str | None = None) -> MemoryRecord:
        """One memory; ``MemoryNotFound`` when missing or owned by another user."""
        try:
            uuid.UUID(memory_id)
        except ValueError:
            raise MemoryNotFound(f"memory {memory_id} not found") from None
        item = self._call("get", lambda: self.backend.get(memory_id))
        if not item or (user_id is not None and item.get("user_id") != user_id):
            raise MemoryNotFound(f"memory {memory_id} not found")
        return MemoryRecord.from_mem0(item)

    def get_all(self, *, user_id: str, limit: int | None = None) -> list[MemoryRecord]:
        """Every memory of one user, oldest first."""
        items = self._call(
            "get_all", lambda: self.backend.get_all(user_id=user_id, limit=limit or self.get_all_limit)
        )
        records = [MemoryRecord.from_mem0(item) for item in items]
        return sorted(records, key=lambda r: (r.created_at or "", r.id))

    def search(
        self, query: str, *, user_id: str, limit: int = 10, run_id: str | None = None
    ) -> list[MemoryRecord]:
        """The top ``limit`` memories of a user for ``query``, best first."""
        items = self._call(
            "search", lambda: self.backend.search(query, user_id=user_id, limit=limit, run_id=run_id)
        )
        return [MemoryRecord.from_mem0(item) for item in items][:limit]

    def delete(self, memory_id: str, *, user_id: str | None = None) -> None:
        """Delete one memory; with ``user_id``, only if that user owns it."""
        if user_id is not None:
            self.get(memory_id, user_id=user_id)
        self._call("delete", lambda: self.backend.delete(memory_id))

    def update(
        self,
        memory_id: str,
        text: str,
        *,
        user_id: str,
        metadata: dict[str, Any] | None = None,
        replace_metadata: bool = False,
    ) -> MemoryRecord:
        """Replace the text of one memory of ``user_id`` (merging ``metadata``); the updated memory.

        With ``replace_metadata`` the caller's keys left out of ``metadata`` are removed, as the
        hosted platform's PUT does; the reserved keys (``ids.RESERVED_METADATA_KEYS``) stay.
        ``MemoryNotFound`` when missing or owned by another user, as for ``get``.
        """
        current = self.get(memory_id, user_id=user_id)
        left_out = set(current.metadata) - set(metadata or {}) - RESERVED_METADATA_KEYS
        extra = {"drop_metadata": sorted(left_out)} if replace_metadata and left_out else {}
        self._call("update", lambda: self.backend.update(memory_id, text, metadata=metadata, **extra))
        return self.get(memory_id, user_id=user_id)

    def update_listed(self, memory_id: str, text: str, *, metadata: dict[str, Any] | None = None) -> None:
        """``update`` of a memory the caller has just listed from its user's ``get_all``: Mem0's call alone.

        Ownership is known, and Mem0 reads the row itself: the reads ``update`` makes before and
        after (two round trips) would tell nothing new. A memory deleted meanwhile is ``MemoryNotFound``.
        """
        self._call("update", lambda: self.backend.update(memory_id, text, metadata=metadata))

    def erase_user(self, user_id: str) -> int:
        """Delete every memory of the user (and, locally, their history); how many there were."""
        return self._call("erase_user", lambda: self.backend.erase_user(user_id))

    def history(self, memory_id: str) -> list[dict[str, Any]]:
        """Mem0's change log of one memory (ADD, UPDATE, DELETE events), oldest first."""
        return self._call("history", lambda: self.backend.history(memory_id))

    def user_stats(self) -> dict[str, tuple[int, datetime | None]]:
        """Per user id: (memory count, newest change) in L4; {} when the backend cannot tell."""
        return self._call("user_stats", self.backend.user_stats)

    def list_users(self) -> list[str]:
        """Every user id with at least one memory in L4."""
        return sorted(self._call("list_users", self.backend.list_users))

    def ping(self) -> None:
        """Raise unless Mem0's store answers."""
        self._call("ping", self.backend.ping)

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        metrics.L4_CALLS.labels(operation).inc()
        future = self._executor.submit(fn)
        try:
            return future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise MemoryStoreTimeout(f"Mem0 {operation} did not answer within {self.timeout_s:g} s") from exc
        except Exception as exc:  # noqa: BLE001 - every Mem0 failure becomes a platform error
            raise translate_error(operation, exc) from exc


class AddsInterrupted(MemoryStoreError):
    """A bulk add failed after storing some memories: ``stored`` are their records, ``error`` the failure."""

    def __init__(self, error: Exception, stored: list[MemoryRecord]) -> None:
        message = getattr(error, "message", str(error))
        super().__init__(message, code=getattr(error, "code", None))
        self.status = getattr(error, "status", self.status)
        self.error = error
        self.stored = stored


def _records(
    items: list[dict[str, Any]], text: str, *, user_id: str, metadata: dict[str, Any], run_id: str | None
) -> list[MemoryRecord]:
    """The records of one add answer; an accepted, unprocessed hosted add is a pending record of ``text``."""
    records = []
    for item in items:
        if item.get("event", "ADD") == "DELETE":
            continue
        if "event_id" in item and "id" not in item:  # accepted, processed later (hosted async mode)
            records.append(
                MemoryRecord("", text, user_id, metadata, run_id=run_id, event_id=item["event_id"])
            )
            continue
        merged = {"user_id": user_id, "metadata": metadata, "run_id": run_id} | item
        records.append(MemoryRecord.from_mem0(merged))
    return records
