"""The Mem0-compatible routes (blueprint ``mem0_compat``); options and shapes: the package's docstring."""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, g, jsonify, request

from memcache_platform.api import errors
from memcache_platform.api.auth import Forbidden, Unauthorized
from memcache_platform.api.context import platform, settings
from memcache_platform.api.contract import Answer, operation, undocumented
from memcache_platform.api.errors import error_response
from memcache_platform.api.keys import find_key, parse_keys
from memcache_platform.api.mem0_compat import answers as a
from memcache_platform.api.mem0_compat import models as m
from memcache_platform.api.ratelimit import bulk_limit, search_limits, write_limits
from memcache_platform.api.validation import ensure_storable
from memcache_platform.clients.mem0 import MemoryRecord
from memcache_platform.errors import InvalidInput, MemoryNotFound, PlatformError
from memcache_platform.services import compat
from memcache_platform.services.compat import UnsupportedEndpoint
from memcache_platform.services.compat_events import QUEUED_MESSAGE, event_results

log = logging.getLogger(__name__)

bp = Blueprint("mem0_compat", __name__)

# Statuses of every route, of routes with a body, and of the by-id routes; 429 where a limit applies.
ERRORS = (400, 401, 403, 503)
BODY_ERRORS = (*ERRORS, 413, 415)
BY_ID_ERRORS = (*ERRORS, 404)


def _operation(
    summary: str, answer: type, errors: tuple[int, ...] = ERRORS, *, parser: Any = m.parse, **options: Any
) -> Any:
    """The contract of one Mem0-compatible route (also used by ``batch.py`` and ``events.py``)."""
    return operation(
        f"Mem0-compatible: {summary}",
        {200: Answer(answer, "ok")},
        errors=errors,
        security=("mem0_token", "bearer"),
        tags=("mem0-compatible",),
        error_model=a.Mem0Error,
        parser=parser,
        **options,
    )


# --- auth and errors --------------------------------------------------------------------------


@bp.before_request
def _authenticate() -> None:
    scheme, _, candidate = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in ("token", "bearer") or not candidate.strip():
        raise Unauthorized("missing API key: send 'Authorization: Token <key>'")
    conf = settings()
    key = find_key(candidate.strip(), parse_keys(tuple(conf.api_keys), tuple(conf.admin_api_keys)))
    if key is None:
        raise Unauthorized("invalid API key")
    g.api_key, g.is_admin = key, key.admin


def _scope(body: m.Scoped) -> compat.Scope:
    """The request's scope, refused (403) when the key is limited to other users."""
    filters, top = body.scope_args()
    scope = compat.scope_of(filters, **top)
    if not g.api_key.allows(scope.user_id):
        raise Forbidden(f"this API key may not access user {scope.user_id!r}")
    return scope


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """The platform's error shape plus Mem0's ``detail``, which MemoryClient shows in its exceptions."""
    return error_response(status, code, message, details, detail=f"{code}: {message}")


errors.register(bp, render=_error)


# --- helpers ----------------------------------------------------------------------------------


def _owned(memory_id: str, user_id: str | None) -> tuple[MemoryRecord, str]:
    """The memory and its owner: ``user_id`` when named, else whoever owns it in L4; 404 otherwise."""
    if user_id is None:
        record = platform().memories.find(memory_id)  # MemoryNotFound for a memory of no user
    else:
        record = platform().memories.get(user_id, memory_id)
    if not g.api_key.allows(cast(str, record.user_id)):  # another tenant's memory: as if absent
        raise MemoryNotFound(f"memory {memory_id} not found")
    return record, cast(str, record.user_id)


def _named_user(*candidates: str | None) -> str | None:
    """The user a by-id call names (query or body), if any; two different ones are an error."""
    named = {c for c in candidates if c is not None}
    if len(named) > 1:
        raise InvalidInput("the user_id of the query and of the body differ", code="invalid_user_id")
    return named.pop() if named else None


def _limited_user() -> str | None:
    """The user a request names (body, filters or query), for the per-user limits; None: the key's alone.

    Parsed leniently before the route validates: a by-id call that names no user, or a scope the
    route will refuse, counts against its key only.
    """
    body = request.get_json(silent=True) if request.is_json else None
    body = body if isinstance(body, dict) else {}
    try:
        filters = body.get("filters")
        if filters is None and "filters" in request.args:
            filters = compat.filters_from_query(request.args["filters"])
        named = body.get("user_id", request.args.get("user_id"))
        return compat.scope_of(filters, user_id=named).user_id
    except PlatformError:
        return None


def _page_url(page: int | None, size: int) -> str | None:
    return None if page is None else f"{request.base_url}?{urlencode({'page': page, 'page_size': size})}"


def _cache(mode: str, result: Any) -> dict[str, Any]:
    if mode == "strict" and result.handoff is None:
        return {
            "mode": mode,
            "rebuild": result.rebuild,
            "watermark": (result.rebuild or {}).get("built_from_watermark"),
        }
    return {"mode": mode} | compat.cache_json(result.handoff)


# --- routes -----------------------------------------------------------------------------------


@bp.get("/v1/ping/")
@_operation("check the API key (MemoryClient's constructor)", a.Ping, errors=(400, 401), query=m.Mem0Query)
def ping(query: m.Mem0Query) -> Response:
    """The client's constructor: validates the API key. It fails unless org_id and project_id come back."""
    return jsonify(
        {
            "status": "ok",
            "message": "pong",
            "org_id": compat.ORG_ID,
            "project_id": compat.PROJECT_ID,
            "user_email": None,
        }
    )


@bp.post("/v3/memories/add/")
@write_limits(_limited_user)
@operation(
    "Mem0-compatible: add (extract facts, write L4, hand off; async_mode: queue and answer an event)",
    {
        200: Answer(a.AddAnswer, "written (results), or queued in async_mode (event_id, PENDING)"),
        201: Answer(a.AddAnswer, "accepted by the hosted Mem0 behind this platform: pending events"),
        202: Answer(a.AddAnswer, "strict mode: the hosted Mem0's adds outlasted the wait; pending"),
    },
    errors=(*BODY_ERRORS, 429, 502),
    security=("mem0_token", "bearer"),
    tags=("mem0-compatible",),
    error_model=a.Mem0Error,
    parser=m.parse,
    query=m.Mem0Query,
    body=m.add_request,
)
def add(query: m.Mem0Query, body: Any) -> Response | tuple[Response, int]:
    """Extract facts from the messages, write them to L4, hand off the rebuild (like the v1 POST)."""
    scope = _scope(body)
    mode = settings().write_mode
    messages = [message.model_dump() for message in body.messages]
    services = platform()

    def write() -> Any:
        if body.infer is False:  # Mem0's "store as is": what another platform's hosted backend sends
            return services.extraction.store_verbatim(
                scope.user_id, messages, metadata=body.metadata, session_id=scope.run_id
            )
        return services.extraction.extract_facts(
            scope.user_id, messages, metadata=body.metadata, session_id=scope.run_id, mode=mode
        )

    if body.async_mode if body.async_mode is not None else settings().mem0_compat_async_default:
        # As the hosted platform: answer the event now, write in the background.
        event_id = services.compat_events.submit(
            scope.user_id, lambda: event_results(write().memories, scope.user_id)
        )
        queued = {"message": QUEUED_MESSAGE, "status": "PENDING", "event_id": event_id}
        return jsonify({"results": [queued], "pending": True, "event_ids": [event_id]})
    result = write()
    # As Mem0's own add: what changed (ADD/UPDATE/DELETE); a restated fact (NONE) is not listed.
    added = [compat.added_json(memory, scope) for memory in result.memories if memory.event != "NONE"]
    answer = {"results": added, "cache": _cache(mode, result)}
    if result.pending:  # fronting the hosted platform, which queued the adds
        # Strict: they outlasted MEMCACHE_MEM0_STRICT_EVENT_WAIT_S and were handed off as in flow A.
        status = 202 if mode == "strict" else 201
        return jsonify(answer | {"pending": True, "event_ids": result.event_ids}), status
    return jsonify(answer)


@bp.post("/v3/memories/search/")
@search_limits(_limited_user)
@_operation(
    "search (L2, else L1 + L4)",
    a.Mem0SearchAnswer,
    errors=(*BODY_ERRORS, 429, 502),
    query=m.Mem0Query,
    body=m.search_request,
)
def search(query: m.Mem0Query, body: Any) -> Response:
    """Semantic search through the cache tiers (L2, else L1 + L4)."""
    scope = _scope(body)
    text = ensure_storable(body.query, "query")  # lone surrogates: no JSON Schema keyword says so
    limit = m.DEFAULT_TOP_K if body.top_k is None else body.top_k
    answer = platform().search.search(scope.user_id, text, limit=limit, session_id=scope.run_id)
    hits = [
        compat.hit_json(hit, scope.user_id)
        for hit in answer.results
        if body.threshold is None or (hit.get("score") or 0.0) >= body.threshold
    ]
    response = jsonify({"results": hits, "tier": answer.tier, "degraded": answer.degraded})
    response.headers["X-Cache-Tier"] = answer.tier
    return response


@bp.post("/v3/memories/")
@_operation(
    "get_all, paginated", a.MemoryPage, errors=(*BODY_ERRORS, 502), query=m.PageQuery, body=m.GetAllRequest
)
def get_all(query: m.PageQuery, body: m.GetAllRequest) -> Response:
    """One page of the user's memories from L4, oldest first."""
    scope = _scope(body)
    records = platform().memories.records(scope.user_id)
    if scope.run_id is not None:
        records = [r for r in records if r.run_id == scope.run_id]
    current = compat.Page.of(records, query.page, query.page_size)
    return jsonify(
        {
            "count": current.count,
            "next": _page_url(current.next_page, query.page_size),
            "previous": _page_url(current.previous_page, query.page_size),
            "results": [compat.memory_json(r) for r in current.items],
        }
    )


@bp.get("/v1/memories/<memory_id>/")
@_operation("get", a.Mem0Memory, errors=(*BY_ID_ERRORS, 502), path=m.MemoryIdPath, query=m.OwnerQuery)
def get_memory(path: m.MemoryIdPath, query: m.OwnerQuery) -> Response:
    """One memory by id."""
    record, _ = _owned(path.memory_id, query.user_id)
    return jsonify(compat.memory_json(record))


@bp.put("/v1/memories/<memory_id>/")
@write_limits(_limited_user)
@_operation(
    "update the text and metadata",
    a.Updated,
    errors=(*BODY_ERRORS, 404, 429, 502),
    path=m.MemoryIdPath,
    query=m.OwnerQuery,
    body=m.update_request,
)
def update_memory(path: m.MemoryIdPath, query: m.OwnerQuery, body: Any) -> Response:
    """Replace the memory's text (and metadata, when sent) in L4 and hand off the rebuild."""
    text = ensure_storable(body.text, "text")
    current, owner = _owned(path.memory_id, _named_user(query.user_id, body.user_id))
    record, handoff = platform().memories.update(owner, current.id, text, body.metadata)
    return jsonify(
        compat.memory_json(record)
        | {"message": "Memory updated successfully!", "cache": compat.cache_json(handoff)}
    )


@bp.delete("/v1/memories/<memory_id>/")
@write_limits(_limited_user)
@_operation("delete", a.Deleted, errors=(*BY_ID_ERRORS, 429, 502), path=m.MemoryIdPath, query=m.OwnerQuery)
def delete_memory(path: m.MemoryIdPath, query: m.OwnerQuery) -> Response:
    """Delete the memory in L4 and hand off the rebuild."""
    record, owner = _owned(path.memory_id, query.user_id)
    handoff = platform().memories.delete(owner, record.id)
    return jsonify({"message": "Memory deleted successfully!", "cache": compat.cache_json(handoff)})


@bp.delete("/v1/memories/")
@write_limits(_limited_user)
@bulk_limit
@_operation("delete_all of one user", a.Deleted, errors=(*ERRORS, 429, 502), query=m.DeleteAllQuery)
def delete_all(query: m.DeleteAllQuery) -> Response:
    """Delete every memory of one user in L4 and hand off one rebuild."""
    filters = compat.filters_from_query(query.filters) if query.filters is not None else None
    scope = _scope(m.parse(m.Scoped, {"user_id": query.user_id, "filters": filters}, "query"))
    if scope.run_id is not None:
        raise compat.unsupported(
            "run_id", "delete_all deletes a whole user; delete a session's memories one by one"
        )
    deleted, handoff = platform().memories.delete_all(scope.user_id)
    return jsonify(
        {"message": "Memories deleted successfully!", "deleted": deleted, "cache": compat.cache_json(handoff)}
    )


@bp.get("/v1/memories/<memory_id>/history/")
@_operation("history", a.History, errors=(*BY_ID_ERRORS, 502), path=m.MemoryIdPath, query=m.OwnerQuery)
def history(path: m.MemoryIdPath, query: m.OwnerQuery) -> Response:
    """Mem0's change log of the memory (ADD, UPDATE events), oldest first."""
    record, owner = _owned(path.memory_id, query.user_id)
    entries = platform().memories.history(owner, record.id)
    return jsonify([dict(entry) | {"user_id": owner} for entry in entries])


@bp.get("/v1/entities/")
@_operation("users with memories", a.Entities, errors=(400, 401, 503), query=m.Mem0Query)
def entities(query: m.Mem0Query) -> Response:
    """Every user with memories in L4 (this platform has no agents, apps or runs as entities)."""
    names = sorted({name for name in platform().l4_users() if name and g.api_key.allows(name)})
    results = [{"id": name, "name": name, "type": "user"} for name in names]
    return jsonify({"count": len(results), "results": results})


# Memory endpoints MemoryClient knows but this API does not serve (exports, summary): a clear 400
# rather than a 404 the client reports as MemoryNotFoundError; not in the OpenAPI document (batches,
# feedback and entity deletes: ``batch.py``). Profiles, webhooks and project settings: plain 404.
UNSERVED: dict[str, tuple[str, ...]] = {
    "/v1/exports/": ("POST",),
    "/v1/exports/get/": ("POST",),
    "/v1/summary/": ("POST",),
}


@undocumented
def _unserved(**_: Any) -> Response:
    raise UnsupportedEndpoint(
        f"{request.method} {request.path}: this Mem0 platform endpoint is not served here",
        details={"endpoint": request.path},
    )


for _rule, _methods in UNSERVED.items():
    bp.add_url_rule(_rule, endpoint="unserved", view_func=_unserved, methods=list(_methods))
