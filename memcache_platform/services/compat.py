"""Helpers of the Mem0-compatible API (``memcache_platform.api.mem0_compat``), free of Flask.

Mem0's request options are checked here against what the platform can honour: an option that
would change the answer is refused with ``UnsupportedOption`` (400, ``unsupported_option``) rather
than ignored, and the answers are shaped the way ``mem0.MemoryClient`` reads them.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from memcache_platform.clients.mem0 import MemoryRecord
from memcache_platform.errors import InvalidInput
from memcache_platform.ids import validate_session_id, validate_user_id
from memcache_platform.services.extraction import StoredMemory
from memcache_platform.services.handoff import HandoffResult
from memcache_platform.services.summary import fact_of


class UnsupportedOption(InvalidInput):
    """A Mem0 option, filter or endpoint the platform cannot honour; ``details['option']`` names it."""

    code = "unsupported_option"
    status = 400


class UnsupportedEndpoint(InvalidInput):
    """A Mem0 platform endpoint this API does not serve."""

    code = "unsupported_endpoint"
    status = 400


# What the ping answers as the key's organisation and project: MemoryClient's constructor fails
# without both. They name this platform; older clients echo them back in every request.
ORG_ID = "memcache-platform"
PROJECT_ID = "memcache-platform"

_SCOPE = "memories are scoped by user only here: send user_id (and optionally run_id)"
_TENANCY = f"there are no organisations or projects here besides {ORG_ID!r} (what /v1/ping/ answers)"
_EXTRACTION = "facts are extracted by the platform's own extractor, which takes no per-request settings"

# Why each known Mem0 option is refused; anything neither supported nor listed is refused as unknown.
REASONS: dict[str, str] = {
    "agent_id": _SCOPE,
    "app_id": _SCOPE,
    "org_id": _TENANCY,
    "project_id": _TENANCY,
    "enable_graph": "graph memory is not available",
    "custom_categories": _EXTRACTION,
    "custom_instructions": _EXTRACTION,
    "agent_custom_instructions": _EXTRACTION,
    "includes": _EXTRACTION,
    "excludes": _EXTRACTION,
    "structured_data_schema": _EXTRACTION,
    "timestamp": "memories carry the time they were written",
    "expiration_date": "memories do not expire here",
    "immutable": "every memory can be updated and deleted here",
    "output_format": "only the v1.1 answer format ({'results': [...]}) is served",
    "rerank": "results are ranked by similarity only; there is no reranker",
    "keyword_search": "search is semantic only",
    "fields": "every search hit carries id, memory, score, categories and user_id",
    "categories": "Mem0's categories do not exist here (the platform's: favorite, dislike, skill, ...)",
    "reference_date": "there is no temporal reasoning",
    "start_date": "date filters are not supported",
    "end_date": "date filters are not supported",
    "metadata": "metadata filters are not supported",
    "filters": "only user_id and run_id filters are supported",
    "page": "send page and page_size as query parameters",
    "page_size": "send page and page_size as query parameters",
    "version": "only the v1 and v2 API versions are served",
    "async_mode": "async_mode must be true or false",
    "show_expired": "show_expired must be true or false",
    "latest_only": "latest_only must be true or false",
    "delete_linked": "delete_linked must be true or false",
}

Harmless = Callable[[Any], bool]


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_false(value: Any) -> bool:
    return value is False or value in ("false", "False", "0")


def _any_bool(value: Any) -> bool:
    return isinstance(value, bool) or value in ("true", "false", "True", "False", "1", "0")


# Options that change nothing here, with the values for which that holds.
HARMLESS: dict[str, Harmless] = {
    "version": lambda v: v in ("v1", "v2"),  # the v1.1 answer shape is the same for both
    "output_format": lambda v: v == "v1.1",
    "async_mode": _is_bool,  # true: queued as the hosted platform does (services/compat_events.py)
    "enable_graph": _is_false,
    "rerank": _is_false,
    "keyword_search": _is_false,
    "show_expired": _is_bool,  # nothing expires here
    "latest_only": _is_bool,  # nothing is superseded here: every memory is the latest
    "delete_linked": _any_bool,  # nothing is linked here
    "org_id": lambda v: v == ORG_ID,
    "project_id": lambda v: v == PROJECT_ID,
}


def unsupported(option: str, reason: str | None = None) -> UnsupportedOption:
    why = reason or REASONS.get(option.rsplit(".", 1)[-1]) or "it is not a Mem0 option this platform knows"
    return UnsupportedOption(
        f"option {option!r} is not supported by this Mem0-compatible API: {why}", details={"option": option}
    )


def check_options(body: Mapping[str, Any], supported: Iterable[str], *, prefix: str = "") -> None:
    """Refuse every key of ``body`` (None values aside) that is neither supported nor harmless."""
    allowed = set(supported)
    for key, value in body.items():
        if value is None or key in allowed:
            continue
        harmless = HARMLESS.get(key)
        if harmless is not None and harmless(value):
            continue
        raise unsupported(f"{prefix}{key}")


@dataclass(frozen=True)
class Scope:
    """Whose memories a request reads or writes: a user, optionally one session (Mem0's run_id)."""

    user_id: str
    run_id: str | None = None


def _flatten(filters: Any, where: str) -> dict[str, Any]:
    """``{"user_id": "a", "AND": [{"run_id": "r"}]}`` as ``{"user_id": "a", "run_id": "r"}``."""
    if not isinstance(filters, dict):
        raise InvalidInput(f"{where} must be a JSON object", code="invalid_filters")
    flat: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None:
            continue
        if key == "AND" and isinstance(value, list):
            parts = [_flatten(item, f"{where}.AND") for item in value]
        elif key in ("user_id", "run_id"):
            parts = [{key: value}]
        else:
            raise unsupported(
                f"filters.{key}", "only user_id and run_id filters (alone or under AND) are supported"
            )
        for part in parts:
            for name, item in part.items():
                if name in flat and flat[name] != item:
                    raise InvalidInput(
                        f"{where} names two different values of {name}", code="invalid_filters"
                    )
                flat[name] = item
    return flat


def scope_of(filters: Any = None, *, user_id: Any = None, run_id: Any = None) -> Scope:
    """The scope of ``filters`` and top-level ``user_id``/``run_id``; a user is required."""
    flat = _flatten(filters, "filters") if filters is not None else {}
    for name, top in (("user_id", user_id), ("run_id", run_id)):
        if top is None:
            continue
        if name in flat and flat[name] != top:
            raise InvalidInput(f"{name} and filters.{name} differ", code="invalid_filters")
        flat[name] = top
    for name, value in flat.items():
        if not isinstance(value, str):
            raise unsupported(f"filters.{name}", f"{name} must be one plain string (no operators)")
        if value == "*":
            raise unsupported(f"filters.{name}", "wildcards are not supported: name one user")
    if flat.get("user_id") is None:
        raise InvalidInput("user_id is required (top level or in filters)", code="missing_user_id")
    run = flat.get("run_id")
    return Scope(validate_user_id(flat["user_id"]), validate_session_id(run) if run is not None else None)


def filters_from_query(raw: str) -> Any:
    """``filters`` sent as a query parameter: MemoryClient.delete_all puts ``str(dict)`` there."""
    if len(raw) > 2000:
        raise InvalidInput("filters is too long", code="invalid_filters")
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            continue
    raise InvalidInput("filters must be a JSON object", code="invalid_filters")


def positive_int(raw: str | None, name: str, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:  # int("²") raises
        raise InvalidInput(f"{name} must be an integer from 1 to {maximum}", code=f"invalid_{name}")
    return int(raw)


def bounded_int(value: Any, name: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInput(f"{name} must be an integer from 1 to {maximum}", code=f"invalid_{name}")
    return value


def threshold_of(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput("threshold must be a number from 0 to 1", code="invalid_threshold")
    return float(value)


def memory_json(record: MemoryRecord) -> dict[str, Any]:
    """One memory as Mem0's ``get``/``get_all`` return it."""
    return {
        "id": record.id,
        "memory": record.memory,
        "user_id": record.user_id,
        "run_id": record.run_id,
        "metadata": record.metadata,
        "categories": [fact_of(record).category],
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def added_json(memory: StoredMemory, scope: Scope) -> dict[str, Any]:
    """One memory a write changed, as in Mem0's synchronous ``add`` answer (``event`` ADD/UPDATE/DELETE)."""
    return {
        "id": memory.id,
        "memory": memory.memory,
        "event": memory.event,
        "user_id": scope.user_id,
        "run_id": scope.run_id,
        "categories": [memory.category],
    } | ({"event_id": memory.event_id} if memory.event_id is not None else {})


def hit_json(hit: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """One search hit (the platform's id, memory, score, category) in Mem0's shape."""
    return {
        "id": hit["id"],
        "memory": hit["memory"],
        "score": hit.get("score"),
        "categories": [hit["category"]] if hit.get("category") else [],
        "user_id": user_id,
    }


def cache_json(handoff: HandoffResult | None) -> dict[str, Any]:
    """What the write did to the cache tiers (the platform's addition to Mem0's answers)."""
    if handoff is None:
        return {"handoff": "skipped", "watermark": None}
    return {"handoff": handoff.handoff, "watermark": handoff.watermark}


@dataclass(frozen=True)
class Page:
    """One page of a list, DRF style as Mem0 answers: 1-based ``page`` of ``size`` items."""

    items: list[Any]
    count: int
    page: int
    size: int

    @classmethod
    def of(cls, items: list[Any], page: int, size: int) -> Page:
        return cls(items[(page - 1) * size : page * size], len(items), page, size)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.size))

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def previous_page(self) -> int | None:
        return min(self.page - 1, self.pages) if self.page > 1 else None
