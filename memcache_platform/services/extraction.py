"""``ExtractionService``: the write path. Facts to Mem0 (L4), then the hand-off, never the other way."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memcache_platform.clients.mem0_client import Mem0ClientWrapper, MemoryRecord
from memcache_platform.errors import MemoryStoreError
from memcache_platform.extractors import Extractor, RulesExtractor
from memcache_platform.services.handoff import HandoffResult
from memcache_platform.services.summary import fact_of

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
    """The memories written and what the hand-off did."""

    memories: list[StoredMemory]
    handoff: HandoffResult | None


class PartialWriteError(MemoryStoreError):
    """L4 failed after some facts of the request were stored; ``details['written']`` lists them."""

    code = "partial_write"
    status = 503


class ExtractionService:
    """Extracts facts from chat messages and writes them to Mem0."""

    def __init__(
        self, mem0: Mem0ClientWrapper, handoff: Callable[[str], HandoffResult], *, extractor: str = "rules"
    ) -> None:
        self.mem0 = mem0
        self.handoff = handoff
        self.extractor_name = extractor
        self.rules: Extractor = RulesExtractor()

    def extract_facts(
        self,
        user_id: str,
        messages: Sequence[Mapping[str, str]],
        *,
        metadata: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> WriteResult:
        """Write the facts of ``messages`` to L4; after that succeeded, hand off the rebuild."""
        if self.extractor_name == "llm":
            stored = self._write_inferred(user_id, messages, metadata, session_id)
        else:
            stored = self._write_rules(user_id, messages, metadata, session_id)
        if not stored:
            return WriteResult([], None)
        return WriteResult(stored, self.handoff(user_id))

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
