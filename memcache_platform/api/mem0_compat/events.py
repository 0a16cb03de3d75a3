"""``GET /v1/event/{id}/``: the state of an ``async_mode`` add (``services/compat_events.py``).

Registered on the package's blueprint ``mem0_compat``. An event of a user the key may not reach
answers 404, as if absent (as a memory of another tenant does).
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, RequestModel, operation
from memcache_platform.api.mem0_compat import answers as a
from memcache_platform.api.mem0_compat import models as m
from memcache_platform.api.mem0_compat.routes import BY_ID_ERRORS, bp
from memcache_platform.api.models import MemoryId
from memcache_platform.errors import MemoryNotFound


class EventIdPath(RequestModel):
    """An event by its id (a UUID)."""

    event_id: MemoryId


def _operation(summary: str, answer: type, errors: tuple[int, ...], **options: Any) -> Any:
    return operation(
        f"Mem0-compatible: {summary}",
        {200: Answer(answer, "ok")},
        errors=errors,
        security=("mem0_token", "bearer"),
        tags=("mem0-compatible",),
        error_model=a.Mem0Error,
        parser=m.parse,
        **options,
    )


@bp.get("/v1/event/<event_id>/")
@_operation("an async add's event", a.Mem0Event, BY_ID_ERRORS, path=EventIdPath, query=m.Mem0Query)
def get_event(path: EventIdPath, query: m.Mem0Query) -> Response:
    """PENDING, RUNNING, SUCCEEDED (with the ADD/UPDATE/DELETE results) or FAILED (with ``detail``)."""
    event = platform().compat_events.get(path.event_id)
    if not g.api_key.allows(event["user_id"]):
        raise MemoryNotFound(f"event {path.event_id} not found")
    return jsonify(event)
