"""Mem0-compatible batch writes, user erasure and feedback (``batch_update``/``batch_delete``,
``delete_users``/``reset``, ``feedback``), registered on the package's blueprint ``mem0_compat``.

* Batches name memories, not users: each memory's owner is read from L4 first, and the whole batch
  is refused (404, nothing written) if one memory is missing or beyond the key's tenant. Then every
  item is written and each user touched gets one hand-off (watermark bump + rebuild), not one per
  item. A batch is one request against the key's write budget and its bulk budget (like
  ``delete_all``): its users are known only after reading L4, so no per-user budget applies.
* ``DELETE /v2/entities/user/{name}/`` erases the user from every tier (``services/erasure.py``,
  as the admin ``DELETE /v1/users/{id}``). Any key may do it for the users it reaches (403 for
  others): Mem0's ``reset`` is an ordinary project call, and such a key can already delete all of
  those users' memories. ``reset`` lists ``GET /v1/entities/`` (a tenant key sees only its users)
  and erases each one. Agents, apps and runs are no entities here: 400 ``unsupported_option``.
* Feedback is stored in L3's database (``tiers/l3_feedback.py``, erased with its user) and counted
  (``memcache_memory_feedback_total``); it changes no memory, so it hands off nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

from flask import Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic import create_model as _create

from config.settings import Settings
from memcache_platform import metrics
from memcache_platform.api.auth import Forbidden
from memcache_platform.api.context import platform
from memcache_platform.api.contract import RequestModel
from memcache_platform.api.mem0_compat import answers as a
from memcache_platform.api.mem0_compat import models as m
from memcache_platform.api.mem0_compat.routes import BODY_ERRORS, ERRORS, _owned, bp
from memcache_platform.api.mem0_compat.routes import _operation as _compat_operation
from memcache_platform.api.models import QUERY_TEXT_PATTERN, MemoryId, UserId
from memcache_platform.api.ratelimit import bulk_limit, write_limits
from memcache_platform.api.validation import ensure_storable
from memcache_platform.services import compat
from memcache_platform.tiers.l3_feedback import FeedbackStore

# Mem0's own limit is 1000 per batch; 100 fits a request body of MEMCACHE_MAX_BODY_BYTES (64 KiB)
# with short texts, where 1000 ids alone (about 60 KB) would not: larger batches are split by the caller.
MAX_BATCH = 100
NOT_ENTITIES = ("agent", "app", "run")  # Mem0's other entity types: this platform has only users


# --- requests and answers ---------------------------------------------------------------------


class DeleteItem(RequestModel):
    """One memory of ``batch_delete``."""

    model_config = ConfigDict(strict=True)
    memory_id: MemoryId


@lru_cache(maxsize=8)
def _batch_update(max_chars: int) -> type[RequestModel]:
    text = Annotated[str, Field(min_length=1, max_length=max_chars, pattern=QUERY_TEXT_PATTERN)]
    item = _create(
        "Mem0BatchUpdateItem",
        __base__=DeleteItem,
        __doc__="One memory of ``batch_update``: its new text (metadata is derived from it here).",
        text=(text, ...),
    )
    return _create(
        "Mem0BatchUpdateRequest",
        __base__=RequestModel,
        __doc__="Body of ``PUT /v1/batch/``.",
        memories=(list[item], Field(min_length=1, max_length=MAX_BATCH)),  # type: ignore[valid-type]
    )


def batch_update_request(conf: Settings) -> type[RequestModel]:
    """``PUT /v1/batch/``'s body under ``conf``'s limit on text."""
    return _batch_update(conf.max_message_chars)


class BatchDeleteRequest(RequestModel):
    """Body of ``DELETE /v1/batch/``."""

    memories: list[DeleteItem] = Field(min_length=1, max_length=MAX_BATCH)


class EntityPath(RequestModel):
    """An entity by type and name; only users are entities here."""

    entity_type: Literal["user"]
    entity_name: UserId


class FeedbackRequest(RequestModel):
    """Body of ``POST /v1/feedback/`` (the client upper-cases ``feedback``)."""

    model_config = ConfigDict(strict=True)
    memory_id: MemoryId
    feedback: Literal["POSITIVE", "NEGATIVE", "VERY_NEGATIVE"] | None = None
    feedback_reason: Annotated[str, Field(max_length=2000, pattern=QUERY_TEXT_PATTERN)] | None = None


class BatchAnswer(BaseModel):
    """Answer of ``batch_update``/``batch_delete``: Mem0's message, the count, each user's hand-off."""

    message: str
    count: int
    cache: dict[str, a.CacheOutcome]


class EntityErased(BaseModel):
    """Answer of ``DELETE /v2/entities/user/{name}/``."""

    message: str
    erased: dict[str, int]


class FeedbackAnswer(BaseModel):
    """Answer of ``feedback``: the stored feedback."""

    id: str
    memory_id: str
    feedback: Literal["POSITIVE", "NEGATIVE", "VERY_NEGATIVE"] | None
    feedback_reason: str | None


def _parse(model: type[BaseModel], data: Mapping[str, Any], where: str) -> Any:
    """As ``models.parse``; another entity type or an unknown key of a batch item: unsupported option."""
    if model is EntityPath and data.get("entity_type") in NOT_ENTITIES:
        raise compat.unsupported("entity_type", "only users are entities here (no agents, apps or runs)")
    if where != "body":
        return m.parse(model, data, where)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            if error["type"] == "extra_forbidden" and len(loc) == 3 and loc[0] == "memories":
                raise compat.unsupported(f"memories.{loc[2]}", m._REASONS.get(str(loc[2]))) from None
        raise m.refusal(model, exc) from None


def _operation(summary: str, answer: type, errors: tuple[int, ...], **options: Any) -> Any:
    """As ``routes._operation``, with this module's parser."""
    return _compat_operation(summary, answer, errors, parser=_parse, **options)


def _no_user() -> None:
    """Batches and feedback name memories, not users: the key's budgets alone."""
    return None


def _entity_user() -> str | None:
    args = request.view_args or {}
    return args.get("entity_name") if args.get("entity_type") == "user" else None


def _answer(verb: str, count: int, handoffs: Mapping[str, Any]) -> Response:
    cache = {user: compat.cache_json(handoff) for user, handoff in handoffs.items()}
    return jsonify({"message": f"Successfully {verb} {count} memories", "count": count, "cache": cache})


# --- routes -----------------------------------------------------------------------------------


@bp.put("/v1/batch/")
@write_limits(_no_user)
@bulk_limit
@_operation(
    "batch_update (L4, one hand-off per user)",
    BatchAnswer,
    errors=(*BODY_ERRORS, 404, 429, 502),
    query=m.Mem0Query,
    body=batch_update_request,
)
def batch_update(query: m.Mem0Query, body: Any) -> Response:
    """Replace the texts of up to ``MAX_BATCH`` memories; one hand-off per user touched."""
    texts = [ensure_storable(item.text, "text") for item in body.memories]
    owners = [_owned(item.memory_id, None)[1] for item in body.memories]  # 404 before any write
    edits = [
        (owner, item.memory_id, text) for owner, item, text in zip(owners, body.memories, texts, strict=True)
    ]
    count, handoffs = platform().memories.batch_update(edits)
    return _answer("updated", count, handoffs)


@bp.delete("/v1/batch/")
@write_limits(_no_user)
@bulk_limit
@_operation(
    "batch_delete (L4, one hand-off per user)",
    BatchAnswer,
    errors=(*BODY_ERRORS, 404, 429, 502),
    query=m.Mem0Query,
    body=BatchDeleteRequest,
)
def batch_delete(query: m.Mem0Query, body: BatchDeleteRequest) -> Response:
    """Delete up to ``MAX_BATCH`` memories; one hand-off per user touched."""
    ids = list(dict.fromkeys(item.memory_id for item in body.memories))  # a repeated id is deleted once
    targets = [(_owned(memory_id, None)[1], memory_id) for memory_id in ids]  # 404 before any delete
    count, handoffs = platform().memories.batch_delete(targets)
    return _answer("deleted", count, handoffs)


@bp.delete("/v2/entities/<entity_type>/<entity_name>/")
@write_limits(_entity_user)
@bulk_limit
@_operation(
    "delete_users/reset: erase a user from every tier",
    EntityErased,
    errors=(*ERRORS, 429, 502),
    path=EntityPath,
    query=m.Mem0Query,
)
def delete_entity(path: EntityPath, query: m.Mem0Query) -> Response:
    """Erase the user from L4, L3, L2, the registry and the hot-query log (a key's own users only)."""
    if not g.api_key.allows(path.entity_name):
        raise Forbidden(f"this API key may not access user {path.entity_name!r}")
    erased = platform().erasure.erase(path.entity_name)
    return jsonify({"message": "Entity deleted successfully!", "erased": erased})


@bp.post("/v1/feedback/")
@write_limits(_no_user)
@_operation(
    "feedback on a memory (stored, counted)",
    FeedbackAnswer,
    errors=(*BODY_ERRORS, 404, 429, 502),
    query=m.Mem0Query,
    body=FeedbackRequest,
)
def feedback(query: m.Mem0Query, body: FeedbackRequest) -> Response:
    """Store the feedback on the memory (a key's own users' memories only) and count it."""
    reason = (
        None if body.feedback_reason is None else ensure_storable(body.feedback_reason, "feedback_reason")
    )
    _, owner = _owned(body.memory_id, None)
    stored = FeedbackStore(platform().l3.engine).record(owner, body.memory_id, body.feedback, reason)
    metrics.FEEDBACK.labels(feedback=body.feedback or "none").inc()
    return jsonify(
        {"id": stored, "memory_id": body.memory_id, "feedback": body.feedback, "feedback_reason": reason}
    )
