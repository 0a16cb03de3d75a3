"""``GET /v1/event/{id}/``: the state of an ``async_mode`` add (``services/compat_events.py``).

Registered on the package's blueprint ``mem0_compat``. An event of a user the key may not reach
answers 404, as if absent (as a memory of another tenant does).
"""

from __future__ import annotations

from flask import Response, g, jsonify

from memcache_platform.api.context import platform
from memcache_platform.api.contract import RequestModel
from memcache_platform.api.mem0_compat import answers as a
from memcache_platform.api.mem0_compat import models as m
from memcache_platform.api.mem0_compat.routes import BY_ID_ERRORS, _operation, bp
from memcache_platform.api.models import MemoryId
from memcache_platform.errors import MemoryNotFound


class EventIdPath(RequestModel):
    """An event by its id (a UUID)."""

    event_id: MemoryId


@bp.get("/v1/event/<event_id>/")
@_operation("an async add's event", a.Mem0Event, BY_ID_ERRORS, path=EventIdPath, query=m.Mem0Query)
def get_event(path: EventIdPath, query: m.Mem0Query) -> Response:
    """PENDING, RUNNING, SUCCEEDED (with the ADD/UPDATE/DELETE results) or FAILED (with ``detail``)."""
    event = platform().compat_events.get(path.event_id)
    if not g.api_key.allows(event["user_id"]):
        raise MemoryNotFound(f"event {path.event_id} not found")
    return jsonify(event)
