"""``ExtractionService``: the write path. Facts to Mem0 (L4), then the hand-off, never the other way."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from memcache_platform.clients.mem0 import AddsInterrupted, Mem0ClientWrapper, MemoryRecord, NewMemory
from memcache_platform.errors import MemoryStoreError, PlatformError
from memcache_platform.extractors import Extractor, RulesExtractor
from memcache_platform.extractors.base import Fact
from memcache_platform.services import supersede
from memcache_platform.services.handoff import HandoffResult
from memcache_platform.services.mem0_events import EventFollower, EventOutcome
from memcache_platform.services.summary import fact_of
from memcache_platform.services.supersede import Event, Known
from memcache_platform.tiers.watermark import Watermarks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredMemory:
    """What the write did to one memory in L4: ADD, UPDATE, DELETE, or NONE (already known)."""

    id: str | None
    memory: str
    category: str
    topic: str | None = None
    value: str | None = None
    event: Event = "ADD"
    # The hosted platform's event of an ADD it accepted but has not processed yet (then ``id`` is None).
    event_id: str | None = None

    @classmethod
    def of(cls, record: MemoryRecord, event: Event = "ADD") -> StoredMemory:
        fact = fact_of(record)
        memory_id = None if record.pending else record.id
        return cls(memory_id, record.memory, fact.category, fact.topic, fact.value, event, record.event_id)

    @classmethod
    def of_fact(cls, memory_id: str | None, fact: Fact, event: Event) -> StoredMemory:
        return cls(memory_id, fact.text, fact.category, fact.topic, fact.value, event)


@dataclass(frozen=True)
class WriteResult:
    """The memories written and what the hand-off (flow A) or the inline rebuild (flow B) did."""

    memories: list[StoredMemory]
    handoff: HandoffResult | None
    rebuild: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        """True when L4 changed (anything but NONE)."""
        return any(m.event != "NONE" for m in self.memories)

    @property
    def event_ids(self) -> list[str]:
        """The hosted platform's events still to finish before these memories are searchable."""
        return [m.event_id for m in self.memories if m.event_id is not None]

    @property
    def pending(self) -> bool:
        return bool(self.event_ids)


class StrictEventFailed(MemoryStoreError):
    """Flow B behind the hosted backend: the platform reported an add of the request FAILED."""

    code = "mem0_event_failed"
    status = 502


class PartialWriteError(MemoryStoreError):
    """L4 failed after some facts of the request were stored; ``details['written']`` lists them."""

    code = "partial_write"
    status = 503

    def __init__(self, message: str, *, done: Sequence[StoredMemory] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.done = list(done)  # what the write changed in L4 before it failed


class StrictRebuildFailed(PlatformError):
    """Flow B: the memories are in L4 but a cache tier failed; ``details['written']`` lists them."""

    code = "strict_rebuild_failed"
    status = 503


def _placeholder(n: int) -> str:
    """The id ``supersede.plan`` gives its n-th ADD until Mem0 assigns the real one."""
    return f"new-{n}"


def _within_request(ops: list[supersede.Op]) -> list[supersede.Op]:
    """Drop an ADD that a later op of the same request deletes ("I love X. I hate X."), and that DELETE.

    Nothing of it would be left in L4: writing it and deleting it would cost two round trips for nothing.
    """
    add_at = {_placeholder(n): i for n, i in enumerate([i for i, o in enumerate(ops) if o.event == "ADD"], 1)}
    cancelled: set[int] = set()
    for j, op in enumerate(ops):
        if op.event == "DELETE" and op.memory_id in add_at:
            cancelled |= {add_at[op.memory_id], j}
    if not cancelled:
        return ops
    kept = [op for i, op in enumerate(ops) if i not in cancelled]
    # The ADDs left are numbered anew, so a placeholder still names the n-th ADD.
    left = [name for name, i in add_at.items() if i not in cancelled]
    renumber = {name: _placeholder(n) for n, name in enumerate(left, 1)}
    return [supersede.Op(op.event, op.fact, renumber.get(op.memory_id or "", op.memory_id)) for op in kept]


def _landed(stored: list[StoredMemory], outcomes: list[EventOutcome]) -> list[StoredMemory]:
    """The memories of SUCCEEDED events: no longer pending, with the id the platform gave them."""
    by_event = {o.event_id: o for o in outcomes if o.status == "SUCCEEDED"}
    landed = []
    for memory in stored:
        outcome = by_event.get(memory.event_id or "")
        if outcome is not None:
            only = outcome.memory_ids[0] if len(outcome.memory_ids) == 1 else None
            memory = replace(memory, id=only, event_id=None)
        landed.append(memory)
    return landed


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
        events: EventFollower | None = None,
        strict_event_wait_s: float = 0.0,
    ) -> None:
        """``events`` marks queued hosted adds and follows them (a worker; flow B: for a bound, here)."""
        self.mem0 = mem0
        self.events = events
        self.strict_event_wait_s = strict_event_wait_s
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
        try:
            stored = self.write(user_id, messages, metadata=metadata, session_id=session_id)
        except PartialWriteError:
            self.handoff(user_id)  # some changes are in L4 already: the tiers must learn them
            raise
        return self.settle(user_id, stored, mode=mode)

    def write(
        self,
        user_id: str,
        messages: Sequence[Mapping[str, str]] = (),
        *,
        memory: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> list[StoredMemory]:
        """Apply one write to L4 only, no hand-off: the facts of ``messages``, or ``memory`` as a fact.

        ``memory`` is a memory text written elsewhere (a Mem0 export): stored as it is, with the
        category the rules read in it, and decided like any fact (a restated one is NONE). The
        caller settles the write (``settle``), once for many writes in a batch.
        """
        if memory is not None:
            fact = dataclasses.replace(self.rules.classify(memory), text=memory.strip())
            return self._write_rules(user_id, [fact], metadata, session_id)
        if self.extractor_name == "llm":
            return self._write_inferred(user_id, messages, metadata, session_id)
        return self._write_rules(user_id, self.rules.extract(messages), metadata, session_id)

    def settle(self, user_id: str, stored: Sequence[StoredMemory], *, mode: str = "async") -> WriteResult:
        """After L4 changed: hand off the rebuild (async) or run it (strict); nothing if nothing changed."""
        stored = list(stored)
        if not any(m.event != "NONE" for m in stored):
            return WriteResult(stored, None)  # nothing changed in L4: nothing to hand off
        pending = [m.event_id for m in stored if m.event_id is not None]
        if pending and self.events is not None:
            if mode == "strict":
                return self._strict_pending(user_id, stored, pending)
            # Marked before the hand-off's bump: no search may fill L2 under the new watermark from
            # an L4 that does not have these memories yet.
            self.events.accepted(user_id, pending)
        if mode == "strict":
            return WriteResult(stored, None, self._rebuild_inline(user_id, stored))
        return WriteResult(stored, self.handoff(user_id))

    def store_verbatim(
        self,
        user_id: str,
        messages: Sequence[Mapping[str, str]],
        *,
        metadata: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> WriteResult:
        """Mem0's ``infer=False``: each message stored as is, with the caller's metadata; then settled.

        What a platform in front of this one (its hosted backend) sends: facts it extracted itself.
        Settled as every write (``settle``, flow A): a hosted add's event is marked pending and followed.
        """
        meta = dict(metadata or {})
        stored = [
            StoredMemory.of(record)
            for message in messages
            if message.get("content", "").strip()
            for record in self.mem0.add(message["content"], user_id=user_id, metadata=meta, run_id=session_id)
        ]
        return self.settle(user_id, stored)

    def _strict_pending(self, user_id: str, stored: list[StoredMemory], pending: list[str]) -> WriteResult:
        """Flow B behind the hosted backend: wait (bounded) for the queued adds, then rebuild inline.

        Within ``strict_event_wait_s``: bump, rebuild from an L4 that has the memories, answer them
        with their ids. Past it: the worker follows what is left and the write is handed off as in
        flow A, answered as still pending (202). A FAILED add fails the request once the tiers
        reflect what L4 holds.
        """
        assert self.events is not None
        self.events.accepted(user_id, pending, follow=False)  # searches skip L2 meanwhile
        outcomes = self.events.wait(pending, self.strict_event_wait_s)
        if not all(o.finished for o in outcomes):
            self.events.conclude(user_id, outcomes)
            return WriteResult(stored, self.handoff(user_id))
        try:
            rebuild = self._rebuild_inline(user_id, stored)
        finally:  # after the bump: no search fills L2 from before it once the markers are gone
            self.events.conclude(user_id, outcomes)
        failed = [o for o in outcomes if o.status == "FAILED"]
        if failed:
            raise StrictEventFailed(
                f"the hosted Mem0 platform failed {len(failed)} of the request's adds: {failed[0].detail}",
                details={"written": [vars(m) for m in stored], "failed": [o.to_dict() for o in failed]},
            )
        return WriteResult(_landed(stored, outcomes), None, rebuild)

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
        facts: list[Fact],
        metadata: Mapping[str, Any] | None,
        session_id: str | None,
    ) -> list[StoredMemory]:
        """Apply the facts as ``services/supersede.py`` decides: add, update, delete or leave alone."""
        if not facts:
            return []
        known = [Known(r.id, fact_of(r)) for r in self.mem0.get_all(user_id=user_id)]
        ops = _within_request(supersede.plan(known, facts))
        # Every text the request writes is embedded in one model call, before the first write.
        with self.mem0.embedding_batch([op.fact.text for op in ops if op.event in ("ADD", "UPDATE")]):
            return self._apply_all(ops, user_id, metadata, session_id)

    def _apply_all(
        self,
        ops: Sequence[supersede.Op],
        user_id: str,
        metadata: Mapping[str, Any] | None,
        session_id: str | None,
    ) -> list[StoredMemory]:
        """Carry out the decisions: every ADD in one bulk add, then the others in order, one call each.

        The ADDs go first (they touch no stored memory, and a later op may name one of them by its
        placeholder); UPDATE and DELETE go through Mem0's own calls, for its history. Answered in
        the plan's order. A failure after the first change is a ``PartialWriteError``.
        """
        results: dict[int, StoredMemory] = {}

        def done() -> list[StoredMemory]:
            return [results[i] for i in sorted(results)]

        adds = [i for i, op in enumerate(ops) if op.event == "ADD"]
        new = [NewMemory(ops[i].fact.text, self._metadata(ops[i], metadata)) for i in adds]
        try:
            records = self.mem0.add_many(new, user_id=user_id, run_id=session_id)
        except AddsInterrupted as exc:
            results |= {i: StoredMemory.of(r) for i, r in zip(adds, exc.stored, strict=False)}
            raise self._partial(exc, done()) from exc
        results |= {i: StoredMemory.of(r) for i, r in zip(adds, records, strict=True)}
        # The plan's placeholder of each ADD -> the id Mem0 gave it (None: a pending hosted add).
        ids = {_placeholder(n): results[i].id for n, i in enumerate(adds, 1)}
        for i, op in enumerate(ops):
            if op.event == "ADD":
                continue
            if op.memory_id in ids:  # a later op of this request about a memory it just added
                # A pending hosted ADD has no id yet: its replacement is added beside it.
                event = op.event if ids[op.memory_id] is not None else "ADD"
                op = supersede.Op(event, op.fact, ids[op.memory_id])
            try:
                results[i] = self._apply(op, user_id, metadata, session_id)
            except MemoryStoreError as exc:
                raise self._partial(exc, done()) from exc
        return done()

    @staticmethod
    def _partial(exc: MemoryStoreError, done: list[StoredMemory]) -> MemoryStoreError:
        """The error to raise: ``exc`` itself while nothing changed in L4, else a ``PartialWriteError``."""
        if not any(m.event != "NONE" for m in done):
            return exc
        # Some changes are in L4 already: they stand, and the caller must learn which.
        return PartialWriteError(
            f"{exc.message}; {len(done)} of the request's facts were applied before the failure",
            details={"written": [vars(m) for m in done]},
            done=done,
        )

    @staticmethod
    def _metadata(op: supersede.Op, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
        """What a rules-mode memory carries: the caller's metadata, the fact's kind, the extractor."""
        return dict(metadata or {}) | op.fact.metadata() | {"extractor": "rules"}

    def _apply(
        self, op: supersede.Op, user_id: str, metadata: Mapping[str, Any] | None, session_id: str | None
    ) -> StoredMemory:
        """One decision, carried out in L4 (the memory ids come from this user's ``get_all``)."""
        meta = self._metadata(op, metadata)
        if op.event == "ADD":
            (record,) = self.mem0.add(op.fact.text, user_id=user_id, metadata=meta, run_id=session_id)
            return StoredMemory.of(record)
        if op.event == "UPDATE":
            assert op.memory_id is not None
            self.mem0.update_listed(op.memory_id, op.fact.text, metadata=meta)
        elif op.event == "DELETE":
            assert op.memory_id is not None
            self.mem0.delete(op.memory_id)  # the user's own: read from their get_all in this request
        return StoredMemory.of_fact(op.memory_id, op.fact, op.event)

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
