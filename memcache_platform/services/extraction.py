"""``ExtractionService``: the write path. Facts to Mem0 (L4), then the hand-off, never the other way."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memcache_platform.clients.mem0 import Mem0ClientWrapper, MemoryRecord
from memcache_platform.errors import MemoryStoreError, PlatformError
from memcache_platform.extractors import Extractor, RulesExtractor
from memcache_platform.services.handoff import HandoffResult
from memcache_platform.services.summary import fact_of
from memcache_platform.tiers.watermark import Watermarks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredMemory:
    """A memory the write stored in L4."""

    id: str
    memory: str
    category: str
    topic: str | None = None
    value: str | None = None

    @classmethod
    def of(cls, record: MemoryRecord) -> StoredMemory:
        fact = fact_of(record)
        return cls(record.id, record.memory, fact.category, fact.topic, fact.value)


@dataclass(frozen=True)
class WriteResult:
    """The memories written and what the hand-off (flow A) or the inline rebuild (flow B) did."""

    memories: list[StoredMemory]
    handoff: HandoffResult | None
    rebuild: dict[str, Any] | None = None


class PartialWriteError(MemoryStoreError):
    """L4 failed after some facts of the request were stored; ``details['written']`` lists them."""

    code = "partial_write"
    status = 503


class StrictRebuildFailed(PlatformError):
    """Flow B: the memories are in L4 but a cache tier failed; ``details['written']`` lists them."""

    code = "strict_rebuild_failed"
    status = 503


class ExtractionService:
    """Extracts facts from chat messages and writes them to Mem0."""

    def __init__(
        self,
        mem0: Mem0ClientWrapper,
        handoff: Callable[[str], HandoffResult],
        *,
        extractor: str = "rules",
        strict_rebuild: Callable[[str], Any] | None = None,
        watermarks: Watermarks | None = None,
    ) -> None:
        self.mem0 = mem0
        self.handoff = handoff
        self.strict_rebuild = strict_rebuild
        self.watermarks = watermarks
        self.extractor_name = extractor
        self.rules: Extractor = RulesExtractor()

    def extract_facts(
        self,
        user_id: str,
        messages: Sequence[Mapping[str, str]],
        *,
        metadata: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        mode: str = "async",
    ) -> WriteResult:
        """Write the facts of ``messages`` to L4; then hand off the rebuild (async) or run it (strict)."""
        if self.extractor_name == "llm":
            stored = self._write_inferred(user_id, messages, metadata, session_id)
        else:
            stored = self._write_rules(user_id, messages, metadata, session_id)
        if not stored:
            return WriteResult([], None)
        if mode == "strict":
            return WriteResult(stored, None, self._rebuild_inline(user_id, stored))
        return WriteResult(stored, self.handoff(user_id))

    def _rebuild_inline(self, user_id: str, stored: list[StoredMemory]) -> dict[str, Any]:
        """Flow B: bump the watermark and rebuild L3/L2 before answering; any failure fails the request."""
        if self.strict_rebuild is None or self.watermarks is None:
            raise PlatformError("strict writes are not configured in this process")
        try:
            self.watermarks.bump(user_id)
            return self.strict_rebuild(user_id).to_dict()
        except PlatformError as exc:
            raise StrictRebuildFailed(
                f"the memories were written to Mem0, but the inline rebuild failed: {exc.message}",
                details={"written": [vars(m) for m in stored], "tier_error": exc.code},
            ) from exc

    def _write_rules(
        self,
        user_id: str,
        messages: Sequence[Mapping[str, str]],
        metadata: Mapping[str, Any] | None,
        session_id: str | None,
    ) -> list[StoredMemory]:
        stored: list[StoredMemory] = []
        for fact in self.rules.extract(messages):
            meta = dict(metadata or {}) | fact.metadata() | {"extractor": "rules"}
            try:
                records = self.mem0.add(fact.text, user_id=user_id, metadata=meta, run_id=session_id)
            except MemoryStoreError as exc:
                if not stored:
                    raise
                # Some facts are in L4 already: they stand, and the caller must learn which.
                self.handoff(user_id)
                raise PartialWriteError(
                    f"{exc.message}; {len(stored)} of the request's facts were stored before the failure",
                    details={"written": [vars(m) for m in stored]},
                ) from exc
            stored.extend(StoredMemory.of(r) for r in records)
        return stored

    def _write_inferred(
        self,
        user_id: str,
        messages: Sequence[Mapping[str, str]],
        metadata: Mapping[str, Any] | None,
        session_id: str | None,
    ) -> list[StoredMemory]:
        meta = dict(metadata or {}) | {"extractor": "llm"}
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]
        records = self.mem0.add(chat, user_id=user_id, metadata=meta, infer=True, run_id=session_id)
        return [StoredMemory.of(r) for r in records]
