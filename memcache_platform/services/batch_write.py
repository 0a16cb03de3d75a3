"""Many records of one user in one request (bulk import): each written through ``ExtractionService``,
then ONE settle for the whole batch (one watermark bump and hand-off, or one strict rebuild).

Each record gets its own outcome: ``written`` (L4 changed), ``skipped`` (a duplicate: every fact of
it was already known, NONE) or ``error`` with a code and message, so one bad record neither fails nor
loses the others. After an L4 failure the records left are not tried (``not_attempted``): Mem0 is
away, and each would wait for its timeout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from memcache_platform.errors import MemoryStoreError, PlatformError
from memcache_platform.services.extraction import (
    ExtractionService,
    PartialWriteError,
    StoredMemory,
    WriteResult,
)

Status = Literal["written", "skipped", "error"]


@dataclass(frozen=True)
class BatchRecord:
    """One valid record: chat ``messages`` to extract facts from, or one ``memory`` text as it is."""

    messages: Sequence[Mapping[str, str]] = ()
    memory: str | None = None
    metadata: Mapping[str, Any] | None = None
    session_id: str | None = None
    created_at: str | None = None  # ISO 8601: the memories' creation time in Mem0 (an import keeps it)


@dataclass(frozen=True)
class RecordProblem:
    """A record refused before any write: why."""

    code: str
    message: str


@dataclass(frozen=True)
class RecordOutcome:
    """What the batch did with one record."""

    index: int
    status: Status
    memories: list[StoredMemory] = field(default_factory=list)
    error: RecordProblem | None = None
    # Why a record was skipped: "duplicate" (all its facts already known) or "no_facts" (none stated).
    reason: str | None = None


@dataclass(frozen=True)
class BatchResult:
    """Every record's outcome and what the one settle of the batch did."""

    outcomes: list[RecordOutcome]
    settled: WriteResult

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class BatchWriteService:
    """Writes a batch of one user's records, then settles it once."""

    def __init__(self, extraction: ExtractionService) -> None:
        self.extraction = extraction

    def write(
        self, user_id: str, records: Sequence[BatchRecord | RecordProblem], *, mode: str = "async"
    ) -> BatchResult:
        """Write every valid record in order; one hand-off (or strict rebuild) if any of them changed L4."""
        outcomes: list[RecordOutcome] = []
        changed: list[StoredMemory] = []
        l4_failure: PlatformError | None = None
        for index, record in enumerate(records):
            if isinstance(record, RecordProblem):
                outcomes.append(RecordOutcome(index, "error", error=record))
                continue
            if l4_failure is not None:
                reason = f"not tried: Mem0 failed on an earlier record ({l4_failure.code})"
                outcomes.append(RecordOutcome(index, "error", error=RecordProblem("not_attempted", reason)))
                continue
            try:
                stored = self.extraction.write(
                    user_id,
                    record.messages,
                    memory=record.memory,
                    metadata=_with_created_at(record),
                    session_id=record.session_id,
                )
            except PartialWriteError as exc:
                changed += exc.done  # those changes stand: the batch's hand-off covers them
                l4_failure = exc
                outcomes.append(RecordOutcome(index, "error", exc.done, RecordProblem(exc.code, exc.message)))
                continue
            except MemoryStoreError as exc:
                l4_failure = exc
                outcomes.append(RecordOutcome(index, "error", error=RecordProblem(exc.code, exc.message)))
                continue
            except PlatformError as exc:  # this record only (say, Mem0 refused its text)
                outcomes.append(RecordOutcome(index, "error", error=RecordProblem(exc.code, exc.message)))
                continue
            written = [m for m in stored if m.event != "NONE"]
            changed += written
            if written:
                outcomes.append(RecordOutcome(index, "written", stored))
            else:
                reason = "duplicate" if stored else "no_facts"
                outcomes.append(RecordOutcome(index, "skipped", stored, reason=reason))
        return BatchResult(outcomes, self.extraction.settle(user_id, changed, mode=mode))


def _with_created_at(record: BatchRecord) -> Mapping[str, Any] | None:
    """The record's metadata, with its ``created_at``, which Mem0 keeps for the memories it adds."""
    if record.created_at is None:
        return record.metadata
    return dict(record.metadata or {}) | {"created_at": record.created_at}
