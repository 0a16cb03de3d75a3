"""``POST /v1/users/{user_id}/memories/batch``: many records of one user (bulk import), one hand-off.

The body is ``{"records": [...]}``, at most ``MEMCACHE_IMPORT_MAX_BATCH`` JSON objects. The body as a
whole is validated by the contract (400 when it is not such a list); each record is then validated
on its own (``batch_record``), so a bad record is reported in its place while the others are written.

Rate limits: a batch is one request against the user's write budget and costs one per record against
the key's write budget (each record is a write's work in Mem0).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, Field, create_model, field_validator, model_validator

from config.settings import Settings
from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform, settings
from memcache_platform.api.contract import Answer, RequestModel, operation, validate
from memcache_platform.api.memories import memory_json, write_cache, write_mode
from memcache_platform.api.models import QUERY_TEXT_PATTERN, ErrorDetail, UserPath, WriteCache, WrittenMemory
from memcache_platform.api.ratelimit import body_records, write_limits
from memcache_platform.api.validation import MemoryCreate, memory_create, storable_text_problem
from memcache_platform.errors import InvalidInput
from memcache_platform.services.batch_write import BatchRecord, BatchResult, RecordProblem

bp = Blueprint("memory_batch", __name__, url_prefix="/v1/users/<user_id>/memories/batch")
bp.before_request(authenticate)

RECORD_DOC = (
    "Each record is a JSON object, checked on its own (a bad one is reported in its place): exactly "
    "one of `messages` (chat messages, as `POST /v1/users/{user_id}/memories` takes) or `memory` "
    "(one memory text stored as it is, e.g. from a Mem0 export); optional `metadata` (as for a "
    "write), `session_id`, and `created_at` (ISO 8601; the time Mem0 records for the memories added)."
)


def _created_at(value: str | None) -> str | None:
    """An ISO 8601 time as Mem0 stores it (with its offset; a naive time is taken as UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2024-07-20T01:30:00Z") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def _storable(value: str | None) -> str | None:
    if value is not None and (problem := storable_text_problem(value)) is not None:
        raise ValueError(problem)
    return value


def _one_of(record: Any) -> Any:
    if (record.messages is None) == (record.memory is None):
        raise ValueError("give exactly one of 'messages' or 'memory'")
    return record


@lru_cache(maxsize=8)
def _batch_record(write: type[MemoryCreate], max_chars: int) -> type[BaseModel]:
    """A write's model (messages, metadata, session_id) with ``memory`` and ``created_at`` beside."""
    return create_model(
        "BatchRecord",
        __base__=write,
        __doc__="One record of a batch.",
        __validators__={
            "created_at_iso": field_validator("created_at")(lambda cls, v: _created_at(v)),
            "memory_storable": field_validator("memory")(lambda cls, v: _storable(v)),
            "one_of": model_validator(mode="after")(_one_of),
        },
        messages=(write.model_fields["messages"].annotation | None, Field(None, min_length=1)),
        memory=(
            Annotated[str, Field(min_length=1, max_length=max_chars, pattern=QUERY_TEXT_PATTERN)] | None,
            None,
        ),
        created_at=(str | None, None),
    )


def batch_record(conf: Settings) -> type[BaseModel]:
    """One record within the configured limits on messages and characters."""
    return _batch_record(memory_create(conf), conf.max_message_chars)


@lru_cache(maxsize=8)
def _batch_request(max_batch: int) -> type[RequestModel]:
    return create_model(
        "MemoryBatchRequest",
        __base__=RequestModel,
        __doc__="Body of a batch write: the records of one user.",
        records=(
            list[dict[str, Any]],
            Field(min_length=1, max_length=max_batch, description=RECORD_DOC),
        ),
    )


def batch_request(conf: Settings) -> type[RequestModel]:
    """The body of a batch, at most ``MEMCACHE_IMPORT_MAX_BATCH`` records."""
    return _batch_request(conf.import_max_batch)


class RecordResult(BaseModel):
    """What the batch did with one record: written, skipped (``reason``) or error."""

    index: int
    status: Literal["written", "skipped", "error"]
    memories: list[WrittenMemory] = Field(default_factory=list)
    reason: Literal["duplicate", "no_facts"] | None = Field(
        None, description="skipped: every fact already known (duplicate), or none stated"
    )
    error: ErrorDetail | None = None


class BatchWritten(BaseModel):
    """Answer of a batch: each record's result, the counts, and the batch's one hand-off."""

    user_id: str
    results: list[RecordResult]
    counts: dict[Literal["written", "skipped", "failed"], int]
    cache: WriteCache
    pending: bool = False
    event_ids: list[str] = Field(default_factory=list)


def _record(model: type[BaseModel], raw: dict[str, Any]) -> BatchRecord | RecordProblem:
    """One raw record as the service takes it, or the problem that refuses it."""
    try:
        valid = validate(model, raw, "record")
    except InvalidInput as exc:
        return RecordProblem(exc.code, exc.message)
    messages = [m.model_dump() for m in valid.messages] if valid.messages else ()
    return BatchRecord(messages, valid.memory, valid.metadata, valid.session_id, valid.created_at)


def _answer(user_id: str, mode: str, result: BatchResult) -> dict[str, Any]:
    results = []
    for outcome in result.outcomes:
        item: dict[str, Any] = {"index": outcome.index, "status": outcome.status}
        item["memories"] = [memory_json(m) for m in outcome.memories]
        if outcome.reason:
            item["reason"] = outcome.reason
        if outcome.error:
            item["error"] = {"code": outcome.error.code, "message": outcome.error.message}
        results.append(item)
    counts = {"written": result.count("written"), "skipped": result.count("skipped")}
    return {
        "user_id": user_id,
        "results": results,
        "counts": counts | {"failed": result.count("error")},
        "cache": write_cache(mode, result.settled),
        "pending": result.settled.pending,
        "event_ids": result.settled.event_ids,
    }


@bp.post("")
@write_limits(key_cost=body_records)
@operation(
    "Write many records of one user (bulk import): per-record results, one hand-off for the batch",
    {200: Answer(BatchWritten, "every record's result (written, skipped as a duplicate, or error)")},
    errors=(400, 401, 403, 413, 415, 429, 502, 503),
    path=UserPath,
    body=batch_request,
)
def create_batch(path: UserPath, body: Any) -> tuple[Response, int]:
    """Validate each record, write the valid ones through the write path, settle the batch once."""
    mode = write_mode(settings().write_mode)
    model = batch_record(settings())
    records = [_record(model, raw) for raw in body.records]
    result = platform().batch_write.write(path.user_id, records, mode=mode)
    return jsonify(_answer(path.user_id, mode, result)), 200
