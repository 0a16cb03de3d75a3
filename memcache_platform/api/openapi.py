"""``GET /openapi.json``: the OpenAPI 3.1 document of the HTTP API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from memcache_platform import __version__
from memcache_platform.api.validation import MemoryCreate
from memcache_platform.ids import USER_ID_PATTERN

bp = Blueprint("openapi", __name__)

_ERROR = {"$ref": "#/components/schemas/Error"}


def _error_responses(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for s in statuses
    }


def _ok(status: int, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {"application/json": {"schema": schema}}}}


_USER_ID = {
    "name": "user_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": USER_ID_PATTERN},
}
_MEMORY = {
    "type": "object",
    "required": ["id", "memory", "category"],
    "properties": {
        "id": {"type": "string"},
        "memory": {"type": "string"},
        "category": {"type": "string"},
        "topic": {"type": "string"},
        "value": {"type": "string"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "session_id": {"type": "string"},
    },
}
_FAVORITES = {
    "type": "object",
    "required": ["user_id", "favorites", "top_skills", "built_at", "stale", "tier"],
    "properties": {
        "user_id": {"type": "string"},
        "favorites": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "dislikes": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "top_skills": {"type": "array", "items": {"type": "string"}},
        "profile": {"type": "object", "additionalProperties": {"type": "string"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "memory_count": {"type": "integer"},
        "built_at": {"type": "string", "format": "date-time"},
        "built_from": {"type": ["integer", "null"]},
        "watermark": {"type": ["integer", "null"]},
        "stale": {"type": "boolean"},
        "tier": {"type": "string", "enum": ["L3", "L4"]},
    },
}
_SEARCH = {
    "type": "object",
    "required": ["results", "tier"],
    "properties": {
        "user_id": {"type": "string"},
        "query": {"type": "string"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "memory", "category"],
                "properties": {
                    "id": {"type": "string"},
                    "memory": {"type": "string"},
                    "score": {"type": ["number", "null"]},
                    "category": {"type": "string"},
                },
            },
        },
        "tier": {"type": "string", "enum": ["L2", "L4"]},
        "watermark": {"type": ["integer", "null"]},
        "generation": {"type": ["integer", "null"]},
        "degraded": {"type": "boolean"},
        "stale": {"type": "boolean"},
    },
}
_CACHE_STATUS = {
    "type": "object",
    "required": ["user_id", "stale", "lag_s", "entries", "tiers"],
    "properties": {
        "user_id": {"type": "string"},
        "watermark": {"type": ["integer", "null"]},
        "built_from": {"type": ["integer", "null"]},
        "built_at": {"type": ["string", "null"]},
        "generation": {"type": "integer"},
        "generation_built_from": {"type": ["integer", "null"]},
        "pending": {"type": "boolean"},
        "stale": {"type": "boolean"},
        "lag_s": {"type": "number"},
        "hot_queries": {"type": "array", "items": {"type": "object"}},
        "entries": {"type": "object"},
        "tiers": {"type": "object"},
    },
}
_TASK_REF = {
    "type": "object",
    "required": ["task_id"],
    "properties": {"task_id": {"type": "string"}, "status_url": {"type": "string"}},
}
_TASK_STATE = {
    "type": "object",
    "required": ["task_id", "state"],
    "properties": {
        "task_id": {"type": "string"},
        "state": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "result": {},
        "meta": {},
        "progress": {"type": "object"},
        "error": {"type": "object"},
    },
}
_STATS = {
    "type": "object",
    "required": ["topics", "refreshed_at"],
    "properties": {
        "topics": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"value": {"type": "string"}, "users": {"type": "integer"}},
                },
            },
        },
        "refreshed_at": {"type": ["string", "null"]},
    },
}
_CHECKS = {"type": "object", "properties": {"status": {"type": "string"}, "checks": {"type": "object"}}}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "memcache_platform",
            "version": __version__,
            "description": "Cache tiers (L1-L3) in front of Mem0 (L4).",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                },
                "MemoryCreate": MemoryCreate.model_json_schema(ref_template="#/components/schemas/{model}"),
                "Message": MemoryCreate.model_json_schema()["$defs"]["Message"],
                "Memory": _MEMORY,
                "Favorites": _FAVORITES,
            },
        },
        "paths": {
            "/v1/users/{user_id}/memories": {
                "parameters": [_USER_ID],
                "post": {
                    "summary": "Extract facts from chat messages, write them to Mem0, hand off the rebuild",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/MemoryCreate"}}
                        },
                    },
                    "responses": _ok(
                        201,
                        {
                            "type": "object",
                            "required": ["memories", "cache"],
                            "properties": {
                                "memories": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Memory"},
                                },
                                "cache": {"type": "object"},
                            },
                        },
                        "memories written",
                    )
                    | _error_responses(400, 401, 413, 415, 502, 503),
                },
                "get": {
                    "summary": "List the user's memories (from L4)",
                    "security": secured,
                    "responses": _ok(
                        200,
                        {
                            "type": "object",
                            "required": ["memories"],
                            "properties": {
                                "memories": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Memory"},
                                }
                            },
                        },
                        "the memories",
                    )
                    | _error_responses(400, 401, 502, 503),
                },
            },
            "/v1/users/{user_id}/memories/{memory_id}": {
                "parameters": [
                    _USER_ID,
                    {
                        "name": "memory_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    },
                ],
                "delete": {
                    "summary": "Delete one memory in L4 and hand off the rebuild",
                    "security": secured,
                    "responses": {"204": {"description": "deleted"}}
                    | _error_responses(400, 401, 404, 502, 503),
                },
            },
            "/v1/users/{user_id}/favorites": {
                "parameters": [_USER_ID],
                "get": {
                    "summary": "Favourites summary: L3 when current, else L4",
                    "security": secured,
                    "responses": _ok(200, {"$ref": "#/components/schemas/Favorites"}, "the summary")
                    | _error_responses(400, 401, 502, 503),
                },
            },
            "/v1/users/{user_id}/search": {
                "parameters": [_USER_ID],
                "get": {
                    "summary": "Semantic search: L2 when current, else L1 + L4 (and L2 is filled)",
                    "security": secured,
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "default": 10},
                        },
                        {
                            "name": "session_id",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "pattern": USER_ID_PATTERN},
                        },
                    ],
                    "responses": _ok(200, _SEARCH, "results; header X-Cache-Tier names the tier")
                    | _error_responses(400, 401, 502, 503),
                },
            },
            "/v1/users/{user_id}/cache": {
                "parameters": [_USER_ID],
                "get": {
                    "summary": "Tier status: watermark, builds, generation, lag, hot queries, entries",
                    "security": secured,
                    "responses": _ok(200, _CACHE_STATUS, "status") | _error_responses(400, 401),
                },
            },
            "/v1/users/{user_id}/cache/warm": {
                "parameters": [_USER_ID],
                "post": {
                    "summary": "Enqueue a rebuild of the user's tiers (even if current)",
                    "security": secured,
                    "responses": _ok(202, _TASK_REF, "enqueued") | _error_responses(400, 401, 503),
                },
            },
            "/v1/users/{user_id}": {
                "parameters": [_USER_ID],
                "delete": {
                    "summary": "Erase a user from L4, L3, L2, the registry and the hot-query log (admin key)",
                    "security": secured,
                    "responses": _ok(200, {"type": "object"}, "erased")
                    | _error_responses(400, 401, 403, 503),
                },
            },
            "/v1/cache/warm-all": {
                "post": {
                    "summary": "Enqueue run_proactive_caching_job now (admin key)",
                    "security": secured,
                    "responses": _ok(202, _TASK_REF, "enqueued") | _error_responses(401, 403, 503),
                }
            },
            "/v1/tasks/{task_id}": {
                "parameters": [
                    {
                        "name": "task_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "get": {
                    "summary": "State, result or progress of a task (sweeps: done, total, skipped, failed)",
                    "security": secured,
                    "responses": _ok(200, _TASK_STATE, "the task") | _error_responses(400, 401, 503),
                },
            },
            "/v1/stats/favorites": {
                "get": {
                    "summary": "Most common favourites across users per topic (L3 materialized view)",
                    "security": secured,
                    "parameters": [
                        {"name": "topic", "in": "query", "required": False, "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                        },
                    ],
                    "responses": _ok(200, _STATS, "top favourites") | _error_responses(400, 401, 503),
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/healthz": {"get": {"summary": "Liveness", "responses": _ok(200, _CHECKS, "alive")}},
            "/readyz": {
                "get": {
                    "summary": "Readiness per dependency",
                    "responses": _ok(200, _CHECKS, "ready") | _ok(503, _CHECKS, "not ready"),
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": _ok(200, {"type": "object"}, "OpenAPI document"),
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    from memcache_platform.api import mem0_compat

    return jsonify(mem0_compat.extend_openapi(document()))
