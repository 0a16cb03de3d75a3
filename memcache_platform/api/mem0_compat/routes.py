"""Mem0-compatible REST API: ``mem0.MemoryClient(api_key=..., host="http://<platform>")`` works unchanged.

Written against mem0ai 2.2.1's ``MemoryClient`` and served by the same services as the v1 API, so
a team's reads go through L2/L1 and its writes hand off the rebuild of the cache tiers.

Routes (client method → route → platform service):

=====================  ==================================  =========================================
``MemoryClient(...)``  ``GET /v1/ping/``                   API key check; fixed org_id/project_id
``add``                ``POST /v3/memories/add/``          ``extraction.extract_facts`` (L4 + hand-off)
``search``             ``POST /v3/memories/search/``       ``search.search`` (L2, else L1 + L4)
``get_all``            ``POST /v3/memories/?page=&page_size=``  ``memories.records`` (L4), paginated
``get``                ``GET /v1/memories/{id}/``          ``memories.find`` / ``memories.get`` (L4)
``update``             ``PUT /v1/memories/{id}/``          ``memories.update`` (L4 + hand-off)
``delete``             ``DELETE /v1/memories/{id}/``       ``memories.delete`` (L4 + hand-off)
``delete_all``         ``DELETE /v1/memories/?user_id=``   ``memories.delete_all`` (L4 + one hand-off)
``history``            ``GET /v1/memories/{id}/history/``  ``memories.history`` (Mem0's change log)
``users``              ``GET /v1/entities/``               ``l4_users`` (users with memories in L4)
=====================  ==================================  =========================================

Auth: ``Authorization: Token <key>`` (as the client sends it; ``Bearer`` works too), any key of
``MEMCACHE_API_KEYS`` or ``MEMCACHE_ADMIN_API_KEYS``. A key limited to some users (a tenant) gets
403 for other users' scopes, 404 for their memories by id, and sees only its users in ``users``.

Errors keep the platform's ``{"error": {"code", "message"}}`` and add ``"detail": "<code>: <message>"``,
the field ``MemoryClient`` puts in its exceptions (``ValueError("Error: ...")`` from the constructor's
ping, else ``mem0.exceptions.ValidationError`` for 400, ``AuthenticationError`` for 401/403,
``MemoryNotFoundError`` for 404, ``NetworkError`` for 503).

Rate limits: the v1 API's budgets, per user (the scope's ``user_id``; a by-id call naming none counts
against its key alone) and per key; a 429 carries ``Retry-After`` and ``X-RateLimit-*``, which the
client puts in ``RateLimitError.debug_info``.

Options. Nothing the client can send is silently ignored: it is honoured, harmless here, or refused
with 400 ``unsupported_option`` naming it (``details.option``). Null values count as absent.

* Scope: ``user_id`` is required, at the top level or in ``filters`` (``{"user_id": ...}``, also under
  ``{"AND": [...]}``); ``run_id`` is honoured as the platform's ``session_id``. ``agent_id``,
  ``app_id``, other filter keys, operators and ``"*"`` are refused, as are ``org_id`` and
  ``project_id`` other than the fixed ``"memcache-platform"`` the ping answers (MemoryClient's
  constructor fails without both; older clients echo them back in every request).
* ``add``: ``messages`` (roles user/assistant/system, text content; the v1 API's limits) and
  ``metadata`` (the v1 API's rules) are honoured. ``infer`` omitted means the platform's configured
  extractor (``MEMCACHE_EXTRACTOR``); ``infer=true`` is honoured only when that is ``llm``;
  ``infer=false`` (store verbatim) is refused: facts always go through the extractor.
  ``async_mode`` (either value), ``version`` v1/v2, ``output_format`` v1.1 and ``enable_graph=false``
  are harmless: the L4 write is synchronous, so the answer always lists the stored memories
  (``{"results": [{"id", "memory", "event": "ADD", ...}]}``, no ``event_id``), plus ``cache``
  (hand-off outcome and watermark). Custom categories/instructions, includes/excludes,
  structured schemas, ``timestamp``, ``expiration_date``, ``immutable`` and ``enable_graph=true``
  are refused.
* ``search``: ``query``, ``top_k`` (1 to ``MEMCACHE_SEARCH_MAX_LIMIT``, default 10) and
  ``threshold`` (0 to 1, applied to the returned ``score``) are honoured; ``show_expired`` and
  ``latest_only`` are harmless (nothing expires or is superseded here), as are ``rerank=false`` and
  ``keyword_search=false``. ``rerank``/``keyword_search`` true, ``fields``, ``categories``,
  ``reference_date`` and ``metadata`` are refused. Hits carry id, memory, score, categories
  (the platform's category) and user_id; the answer adds ``tier`` (also ``X-Cache-Tier``).
* ``get_all``: ``page`` (default 1) and ``page_size`` (default 100, at most 1000) query
  parameters; ``{"count", "next", "previous", "results"}`` with absolute ``next``/``previous`` URLs;
  memories oldest first; a page past the end is empty. ``show_expired``/``latest_only`` harmless;
  ``start_date``, ``end_date`` and ``categories`` refused.
* ``get``/``update``/``delete``/``history`` by id: the client sends no user, so the memory's owner
  in L4 is used (and a memory of no user answers 404). A ``user_id`` query parameter (or
  ``user_id`` in the update body) restricts the call to that user: another user's memory answers
  404. ``update`` honours ``text`` (and re-derives the category from it); ``metadata``,
  ``timestamp`` and a non-null ``expiration_date`` are refused (``expiration_date: null`` clears
  nothing and is harmless). ``delete_linked`` is harmless (nothing is linked here). ``history`` of a
  deleted memory answers 404.
* ``delete_all``: ``user_id`` (query) or ``filters`` with a user (the client sends it as
  ``str(dict)``); without a user it is refused rather than deleting everything; ``run_id`` refused.
* The client's other memory endpoints (``batch_update``/``batch_delete``, ``feedback``, exports,
  ``get_summary``, ``delete_users``/``reset``) answer 400 ``unsupported_endpoint`` (a plain 404
  would reach the caller as ``MemoryNotFoundError``); profiles, webhooks and project settings are
  not routed at all (404).

``openapi_paths()``/``extend_openapi(document)`` describe these routes for ``/openapi.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel

from memcache_platform.api import errors
from memcache_platform.api.auth import Forbidden, Unauthorized
from memcache_platform.api.context import platform, settings
from memcache_platform.api.errors import error_response
from memcache_platform.api.keys import find_key, parse_keys
from memcache_platform.api.ratelimit import bulk_limit, search_limits, write_limits
from memcache_platform.api.validation import (
    MemoryCreate,
    check_message_limits,
    ensure_storable,
    json_object,
    validated,
)
from memcache_platform.clients.mem0 import MemoryRecord
from memcache_platform.errors import InvalidInput, MemoryNotFound, PlatformError
from memcache_platform.ids import validate_memory_id, validate_user_id
from memcache_platform.services import compat
from memcache_platform.services.compat import UnsupportedEndpoint, check_options, unsupported

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

bp = Blueprint("mem0_compat", __name__)

DEFAULT_TOP_K = 10
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000


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


def _scope(filters: Any = None, **top: Any) -> compat.Scope:
    """The request's scope, refused (403) when the key is limited to other users."""
    scope = compat.scope_of(filters, **top)
    if not g.api_key.allows(scope.user_id):
        raise Forbidden(f"this API key may not access user {scope.user_id!r}")
    return scope


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """The platform's error shape plus Mem0's ``detail``, which MemoryClient shows in its exceptions."""
    return error_response(status, code, message, details, detail=f"{code}: {message}")


errors.register(bp, render=_error)


# --- request parsing --------------------------------------------------------------------------


def _query(supported: Iterable[str]) -> dict[str, str]:
    """The query parameters, refusing any the route does not honour."""
    args = request.args.to_dict()
    check_options(args, supported)
    return args


def _text(value: Any, name: str, maximum: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > maximum:
        raise InvalidInput(f"{name} must be 1 to {maximum} characters of text", code=f"invalid_{name}")
    return ensure_storable(value, name)


def _check_infer(infer: Any, extractor: str) -> None:
    if infer is None:
        return
    if not isinstance(infer, bool):
        raise InvalidInput("infer must be true or false", code="invalid_body")
    if infer and extractor != "llm":
        raise unsupported(
            "infer",
            f"infer=true asks for LLM extraction, but this platform extracts facts with its "
            f"{extractor!r} extractor; omit infer to use it",
        )
    if not infer:
        raise unsupported(
            "infer",
            f"infer=false (store the messages verbatim) is not available: facts always go through "
            f"the platform's {extractor!r} extractor; omit infer",
        )


def _named_user(*candidates: Any) -> str | None:
    """The user a by-id call names (query or body), if any; two different ones are an error."""
    named = {c for c in candidates if c is not None}
    if len(named) > 1:
        raise InvalidInput("the user_id of the query and of the body differ", code="invalid_user_id")
    return validate_user_id(named.pop()) if named else None


def _owned(memory_id: str, user_id: str | None) -> tuple[MemoryRecord, str]:
    """The memory and its owner: ``user_id`` when named, else whoever owns it in L4; 404 otherwise."""
    memory_id = validate_memory_id(memory_id)
    if user_id is None:
        record = platform().memories.find(memory_id)  # MemoryNotFound for a memory of no user
    else:
        record = platform().memories.get(user_id, memory_id)
    if not g.api_key.allows(cast(str, record.user_id)):  # another tenant's memory: as if absent
        raise MemoryNotFound(f"memory {memory_id} not found")
    return record, cast(str, record.user_id)


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


# --- routes -----------------------------------------------------------------------------------


@bp.get("/v1/ping/")
def ping() -> Response:
    """The client's constructor: validates the API key. It fails unless org_id and project_id come back."""
    _query(())
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
def add() -> Response:
    """Extract facts from the messages, write them to L4, hand off the rebuild (like the v1 POST)."""
    _query(())
    body = json_object()
    check_options(body, {"messages", "user_id", "run_id", "filters", "metadata", "infer"})
    scope = _scope(body.get("filters"), user_id=body.get("user_id"), run_id=body.get("run_id"))
    conf = settings()
    _check_infer(body.get("infer"), conf.extractor)
    create = validated(
        MemoryCreate,
        {"messages": body.get("messages"), "metadata": body.get("metadata"), "session_id": scope.run_id},
    )
    check_message_limits(create, conf)
    mode = conf.write_mode
    result = platform().extraction.extract_facts(
        scope.user_id,
        [m.model_dump() for m in create.messages],
        metadata=create.metadata,
        session_id=scope.run_id,
        mode=mode,
    )
    cache: dict[str, Any] = {"mode": mode}
    if mode == "strict":
        cache |= {"rebuild": result.rebuild, "watermark": (result.rebuild or {}).get("built_from_watermark")}
    else:
        cache |= compat.cache_json(result.handoff)
    return jsonify({"results": [compat.added_json(m, scope) for m in result.memories], "cache": cache})


@bp.post("/v3/memories/search/")
@search_limits(_limited_user)
def search() -> Response:
    """Semantic search through the cache tiers (L2, else L1 + L4)."""
    _query(())
    body = json_object()
    check_options(body, {"query", "filters", "user_id", "run_id", "top_k", "threshold"})
    scope = _scope(body.get("filters"), user_id=body.get("user_id"), run_id=body.get("run_id"))
    conf = settings()
    query = _text(body.get("query"), "query", conf.query_max_chars)
    top_k = body.get("top_k")
    limit = DEFAULT_TOP_K if top_k is None else compat.bounded_int(top_k, "top_k", conf.search_max_limit)
    threshold = compat.threshold_of(body.get("threshold"))
    answer = platform().search.search(scope.user_id, query, limit=limit, session_id=scope.run_id)
    hits = [
        compat.hit_json(hit, scope.user_id)
        for hit in answer.results
        if threshold is None or (hit.get("score") or 0.0) >= threshold
    ]
    response = jsonify({"results": hits, "tier": answer.tier, "degraded": answer.degraded})
    response.headers["X-Cache-Tier"] = answer.tier
    return response


@bp.post("/v3/memories/")
def get_all() -> Response:
    """One page of the user's memories from L4, oldest first."""
    args = _query({"page", "page_size"})
    body = json_object()
    check_options(body, {"filters", "user_id", "run_id"})
    scope = _scope(body.get("filters"), user_id=body.get("user_id"), run_id=body.get("run_id"))
    page = compat.positive_int(args.get("page"), "page", 1, MAX_PAGE)
    size = compat.positive_int(args.get("page_size"), "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    records = platform().memories.records(scope.user_id)
    if scope.run_id is not None:
        records = [r for r in records if r.run_id == scope.run_id]
    current = compat.Page.of(records, page, size)
    return jsonify(
        {
            "count": current.count,
            "next": _page_url(current.next_page, size),
            "previous": _page_url(current.previous_page, size),
            "results": [compat.memory_json(r) for r in current.items],
        }
    )


@bp.get("/v1/memories/<memory_id>/")
def get_memory(memory_id: str) -> Response:
    args = _query({"user_id"})
    record, _ = _owned(memory_id, _named_user(args.get("user_id")))
    return jsonify(compat.memory_json(record))


@bp.put("/v1/memories/<memory_id>/")
@write_limits(_limited_user)
def update_memory(memory_id: str) -> Response:
    """Replace the memory's text in L4 and hand off the rebuild."""
    args = _query({"user_id"})
    body = json_object()
    check_options(body, {"text", "user_id", "metadata"})
    if body.get("metadata") is not None:
        raise unsupported("metadata", "only text can be updated: the platform derives the category from it")
    text = _text(body.get("text"), "text", settings().max_message_chars)
    current, owner = _owned(memory_id, _named_user(args.get("user_id"), body.get("user_id")))
    record, handoff = platform().memories.update(owner, current.id, text)
    return jsonify(
        compat.memory_json(record)
        | {"message": "Memory updated successfully!", "cache": compat.cache_json(handoff)}
    )


@bp.delete("/v1/memories/<memory_id>/")
@write_limits(_limited_user)
def delete_memory(memory_id: str) -> Response:
    """Delete the memory in L4 and hand off the rebuild."""
    args = _query({"user_id"})
    record, owner = _owned(memory_id, _named_user(args.get("user_id")))
    handoff = platform().memories.delete(owner, record.id)
    return jsonify({"message": "Memory deleted successfully!", "cache": compat.cache_json(handoff)})


@bp.delete("/v1/memories/")
@write_limits(_limited_user)
@bulk_limit
def delete_all() -> Response:
    """Delete every memory of one user in L4 and hand off one rebuild."""
    args = _query({"user_id", "filters"})
    filters = compat.filters_from_query(args["filters"]) if "filters" in args else None
    scope = _scope(filters, user_id=args.get("user_id"))
    if scope.run_id is not None:
        raise unsupported("run_id", "delete_all deletes a whole user; delete a session's memories one by one")
    deleted, handoff = platform().memories.delete_all(scope.user_id)
    return jsonify(
        {"message": "Memories deleted successfully!", "deleted": deleted, "cache": compat.cache_json(handoff)}
    )


@bp.get("/v1/memories/<memory_id>/history/")
def history(memory_id: str) -> Response:
    """Mem0's change log of the memory (ADD, UPDATE events), oldest first."""
    args = _query({"user_id"})
    record, owner = _owned(memory_id, _named_user(args.get("user_id")))
    entries = platform().memories.history(owner, record.id)
    return jsonify([dict(entry) | {"user_id": owner} for entry in entries])


@bp.get("/v1/entities/")
def entities() -> Response:
    """Every user with memories in L4 (this platform has no agents, apps or runs as entities)."""
    _query(())
    names = sorted({name for name in platform().l4_users() if name and g.api_key.allows(name)})
    results = [{"id": name, "name": name, "type": "user"} for name in names]
    return jsonify({"count": len(results), "results": results})


# Memory endpoints MemoryClient knows but this API does not serve (batch_update/batch_delete, feedback,
# exports, summary, delete_users/reset): a clear 400 rather than a 404 the client reports as
# MemoryNotFoundError. Profiles, webhooks and project settings are left to the plain 404.
UNSERVED: dict[str, tuple[str, ...]] = {
    "/v1/batch/": ("PUT", "DELETE"),
    "/v1/feedback/": ("POST",),
    "/v1/exports/": ("POST",),
    "/v1/exports/get/": ("POST",),
    "/v1/summary/": ("POST",),
    "/v2/entities/<entity_type>/<entity_name>/": ("DELETE",),
}


def _unserved(**_: Any) -> Response:
    raise UnsupportedEndpoint(
        f"{request.method} {request.path}: this Mem0 platform endpoint is not served here",
        details={"endpoint": request.path},
    )


for _rule, _methods in UNSERVED.items():
    bp.add_url_rule(_rule, endpoint="unserved", view_func=_unserved, methods=list(_methods))


# --- OpenAPI ----------------------------------------------------------------------------------

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ID = {"name": "memory_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_OWNER = {
    "name": "user_id",
    "in": "query",
    "required": False,
    "description": "restrict the call to this user's memories (another user's memory answers 404)",
    "schema": {"type": "string"},
}
_OBJECT = {"type": "object"}


ERRORS = (400, 401, 403, 429, 503)
BODY_ERRORS = (*ERRORS, 413, 415)
BY_ID_ERRORS = (*ERRORS, 404)


def _operation(summary: str, errors: tuple[int, ...] = ERRORS, **extra: Any) -> Any:
    responses: dict[str, Any] = {
        "200": {"description": "ok", "content": {"application/json": {"schema": _OBJECT}}}
    }
    for code in errors:
        responses[str(code)] = {
            "description": "error",
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
    return {
        "summary": f"Mem0-compatible: {summary}",
        "tags": ["mem0-compatible"],
        "security": [{"mem0_token": []}, {"bearer": []}],
        "responses": responses,
    } | extra


def _json_body() -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": _OBJECT}}}}


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI path items of this blueprint (details of the options: the module docstring)."""
    page = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
        for name in ("page", "page_size")
    ]
    paths: dict[str, Any] = {
        "/v1/ping/": {"get": _operation("check the API key (MemoryClient's constructor)", errors=(401,))},
        "/v3/memories/add/": {
            "post": _operation("add (extract facts, write L4, hand off)", errors=BODY_ERRORS) | _json_body()
        },
        "/v3/memories/search/": {
            "post": _operation("search (L2, else L1 + L4)", errors=BODY_ERRORS) | _json_body()
        },
        "/v3/memories/": {
            "post": _operation("get_all, paginated", errors=BODY_ERRORS, parameters=page) | _json_body(),
        },
        "/v1/memories/": {
            "delete": _operation(
                "delete_all of one user",
                parameters=[
                    {"name": "user_id", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
            )
        },
        "/v1/memories/{memory_id}/": {
            "parameters": [_ID, _OWNER],
            "get": _operation("get", errors=BY_ID_ERRORS),
            "put": _operation("update the text", errors=(*BODY_ERRORS, 404)) | _json_body(),
            "delete": _operation("delete", errors=BY_ID_ERRORS),
        },
        "/v1/memories/{memory_id}/history/": {
            "parameters": [_ID, _OWNER],
            "get": _operation("history", errors=BY_ID_ERRORS),
        },
        "/v1/entities/": {"get": _operation("users with memories")},
    }
    for rule, methods in UNSERVED.items():
        path = rule.replace("<", "{").replace(">", "}")
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ("entity_type", "entity_name")
            if f"{{{name}}}" in path
        ]
        item: dict[str, Any] = {"parameters": params} if params else {}
        for method in methods:
            item[method.lower()] = _operation("not served", errors=(401,)) | {
                "responses": {
                    str(code): {"description": why, "content": {"application/json": {"schema": _ERROR_REF}}}
                    for code, why in ((400, "unsupported_endpoint"), (401, "unauthorized"))
                }
            }
        paths[path] = item
    return paths


def extend_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (the v1 API's OpenAPI document) with this blueprint's paths and auth scheme."""
    document.setdefault("components", {}).setdefault("securitySchemes", {})["mem0_token"] = {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "'Token <key>', as mem0.MemoryClient sends it",
    }
    document.setdefault("paths", {}).update(openapi_paths())
    return document
