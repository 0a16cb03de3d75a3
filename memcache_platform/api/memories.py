"""``/v1/users/{user_id}/memories``: write (extract + L4 + hand-off), list, delete."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from memcache_platform.api.auth import Forbidden, authenticate
from memcache_platform.api.context import platform, settings
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import MemoriesWritten, MemoryList, MemoryPath, UserPath
from memcache_platform.api.ratelimit import write_limits
from memcache_platform.api.validation import MemoryCreate, memory_create
from memcache_platform.errors import InvalidInput
from memcache_platform.services.extraction import StoredMemory, WriteResult

bp = Blueprint("memories", __name__, url_prefix="/v1/users/<user_id>/memories")
bp.before_request(authenticate)


def memory_json(memory: StoredMemory) -> dict[str, Any]:
    """One written or listed memory as the API shows it (None fields left out, but ``id``)."""
    return {k: v for k, v in asdict(memory).items() if v is not None or k == "id"}


def write_mode(default: str) -> str:
    """The configured mode, or ``X-Write-Mode`` (async|strict) from an admin key, for benchmarks."""
    requested = request.headers.get("X-Write-Mode")
    if requested is None:
        return default
    if requested not in ("async", "strict"):
        raise InvalidInput("X-Write-Mode must be 'async' or 'strict'", code="invalid_write_mode")
    if not g.is_admin:
        raise Forbidden("X-Write-Mode needs an admin API key")
    return requested


@bp.post("")
@write_limits()
@operation(
    "Extract facts from chat messages, write them to Mem0, hand off the rebuild",
    {
        201: Answer(MemoriesWritten, "memories written"),
        202: Answer(
            MemoriesWritten,
            "strict mode behind the hosted backend: its adds did not finish within "
            "MEMCACHE_MEM0_STRICT_EVENT_WAIT_S; pending, handed off as in flow A",
        ),
    },
    errors=(400, 401, 403, 413, 415, 429, 502, 503),
    path=UserPath,
    body=memory_create,
)
def create(path: UserPath, body: MemoryCreate) -> tuple[Response, int]:
    """Extract facts from chat messages, write them to Mem0, hand off the rebuild."""
    mode = write_mode(settings().write_mode)
    result = platform().extraction.extract_facts(
        path.user_id,
        [m.model_dump() for m in body.messages],
        metadata=body.metadata,
        session_id=body.session_id,
        mode=mode,
    )
    memories = [memory_json(m) for m in result.memories]
    cache = write_cache(mode, result)
    written = {"memories": memories, "cache": cache, "pending": result.pending, "event_ids": result.event_ids}
    return jsonify(written), 202 if mode == "strict" and result.pending else 201


def write_cache(mode: str, result: WriteResult) -> dict[str, Any]:
    """What a write did to the cache tiers: the hand-off (async) or the inline rebuild (strict)."""
    handoff = result.handoff
    cache: dict[str, Any] = {"mode": mode}
    if mode == "strict" and handoff is None:
        return cache | {
            "rebuild": result.rebuild,
            "watermark": (result.rebuild or {}).get("built_from_watermark"),
        }
    # Flow A, or flow B whose hosted adds outlasted the wait (then handed off as in flow A).
    return cache | {
        "handoff": handoff.handoff if handoff else "skipped",
        "watermark": handoff.watermark if handoff else None,
    }


@bp.get("")
@operation(
    "List the user's memories (from L4)",
    {200: Answer(MemoryList, "the memories, oldest first")},
    errors=(400, 401, 403, 502, 503),
    path=UserPath,
)
def list_memories(path: UserPath) -> Response:
    """Every memory of the user, from L4."""
    items = [
        memory_json(m) | {k: v for k, v in extra.items() if v is not None}
        for m, extra in platform().memories.list(path.user_id)
    ]
    return jsonify({"user_id": path.user_id, "memories": items, "count": len(items)})


@bp.delete("/<memory_id>")
@write_limits()
@operation(
    "Delete one memory in L4 and hand off the rebuild",
    {204: Answer(description="deleted")},
    errors=(400, 401, 403, 404, 429, 502, 503),
    path=MemoryPath,
)
def delete(path: MemoryPath) -> tuple[str, int]:
    """Delete one memory of the user in L4 and hand off the rebuild."""
    platform().memories.delete(path.user_id, path.memory_id)
    return "", 204
