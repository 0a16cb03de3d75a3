"""Pydantic request models of the Mem0-compatible API, modelled on mem0ai's ``mem0/client/types.py``.

Requests are ``extra="forbid"`` and strict (JSON's own types, no coercion), with ``Literal``s for
the values of Mem0's options that are harmless here; ``refusal`` turns a validation error into the
platform's error: an option (or filter) it cannot honour is 400 ``unsupported_option`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
)
from pydantic import create_model as _create
from pydantic.json_schema import SkipJsonSchema

from config.settings import Settings
from memcache_platform.api.contract import RequestModel, validate
from memcache_platform.api.models import (
    QUERY_TEXT_PATTERN,
    MemoryId,
    SessionId,
    UserId,
    query_int,
)
from memcache_platform.api.validation import MemoryCreate, memory_create, storable_text_problem
from memcache_platform.errors import InvalidInput, PlatformError
from memcache_platform.ids import FACT_METADATA_KEYS, RESERVED_METADATA_KEYS
from memcache_platform.services import compat

DEFAULT_TOP_K = 10
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_PAGE = 1_000_000


def _must_be_false(value: bool) -> bool:
    if value:
        raise ValueError("only false is supported")
    return value


def _integral(value: Any) -> Any:
    """JSON Schema's integer: 50.0 is one, true is not (strict pydantic says the other way round)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ``Literal[False]`` would also take 0; Mem0's options are JSON booleans.
OnlyFalse = Annotated[StrictBool, AfterValidator(_must_be_false), WithJsonSchema({"const": False})]
# Query parameters are text: the spellings of a boolean that mean false, and of any boolean.
FalseText = Literal["false", "False", "0"]
BoolText = Literal["true", "false", "True", "False", "1", "0"]


class Mem0Request(RequestModel):
    """Options every Mem0 body may carry that change nothing here (``compat.HARMLESS``)."""

    model_config = ConfigDict(strict=True)
    # Fields whose every problem is an option this API cannot honour (not malformed input).
    options: ClassVar[frozenset[str]] = frozenset(compat.HARMLESS)

    version: Literal["v1", "v2"] | None = None
    output_format: Literal["v1.1"] | None = None
    async_mode: StrictBool | None = None
    enable_graph: OnlyFalse | None = None
    rerank: OnlyFalse | None = None
    keyword_search: OnlyFalse | None = None
    show_expired: StrictBool | None = None
    latest_only: StrictBool | None = None
    delete_linked: StrictBool | BoolText | None = None
    org_id: Literal[compat.ORG_ID] | None = None  # type: ignore[valid-type]
    project_id: Literal[compat.PROJECT_ID] | None = None  # type: ignore[valid-type]


class Mem0Query(Mem0Request):
    """The same options as query parameters (text); unknown parameters are refused too."""

    model_config = ConfigDict(strict=False)
    async_mode: None = None  # type: ignore[assignment]
    enable_graph: FalseText | None = None  # type: ignore[assignment]
    rerank: FalseText | None = None  # type: ignore[assignment]
    keyword_search: FalseText | None = None  # type: ignore[assignment]
    show_expired: None = None  # type: ignore[assignment]
    latest_only: None = None  # type: ignore[assignment]
    delete_linked: BoolText | None = None  # type: ignore[assignment]


class Clause(RequestModel):
    """One filter under ``AND``."""

    model_config = ConfigDict(strict=True)
    user_id: UserId | None = None
    run_id: SessionId | None = None


class Filters(RequestModel):
    """Mem0's ``filters``: a user (and a session, Mem0's ``run_id``), alone or under ``AND``."""

    model_config = ConfigDict(strict=True)
    user_id: UserId | None = None
    run_id: SessionId | None = None
    AND: list[Clause] | None = Field(None, min_length=1)


def _string(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"type": "string"}}}


def _clause(name: str) -> dict[str, Any]:
    return {**_string(name), "type": "object", "additionalProperties": False}


_NULL = {"type": "null"}
# Exactly one way of naming the user, so that a request the document calls valid is never refused
# for naming two different ones (which the server answers 400 invalid_filters).
SCOPE_FORMS = {
    "anyOf": [
        {**_string("user_id"), "properties": {"user_id": {"type": "string"}, "filters": _NULL}},
        {
            "required": ["filters"],
            "properties": {
                "user_id": _NULL,
                "run_id": _NULL,
                "filters": {
                    **_string("user_id"),
                    "type": "object",
                    "properties": {"user_id": {"type": "string"}, "AND": _NULL},
                },
            },
        },
        {
            "required": ["filters"],
            "properties": {
                "user_id": _NULL,
                "run_id": _NULL,
                "filters": {
                    "type": "object",
                    "required": ["AND"],
                    "properties": {
                        "user_id": _NULL,
                        "run_id": _NULL,
                        "AND": {
                            "type": "array",
                            "prefixItems": [_clause("user_id")],
                            "items": _clause("run_id"),
                            "maxItems": 2,
                        },
                    },
                },
            },
        },
    ]
}


class Scoped(Mem0Request):
    """A body that names whose memories it reads or writes."""

    model_config = ConfigDict(json_schema_extra=SCOPE_FORMS)
    user_id: UserId | None = None
    run_id: SessionId | None = None
    filters: Filters | None = None

    def scope_args(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """``filters`` and the top-level ``user_id``/``run_id``, for ``compat.scope_of``."""
        filters = self.filters.model_dump(exclude_none=True) if self.filters else None
        return filters, {"user_id": self.user_id, "run_id": self.run_id}


def _infer(extractor: str) -> Any:
    """``infer`` as the configured extractor allows it: omitted, or true with the ``llm`` extractor.

    False (store each message as it is, as Mem0 does) is accepted with the rules extractor: it is
    what the hosted backend of another platform sends with each fact its own rules extracted.
    """
    return (Literal[True] | None) if extractor == "llm" else (Literal[False] | None)


@lru_cache(maxsize=8)
def _add_request(create: type[MemoryCreate], extractor: str) -> type[Scoped]:
    fields = create.model_fields
    return _create(
        "Mem0AddRequest",
        __base__=Scoped,
        __doc__="Body of ``POST /v3/memories/add/`` (mem0's ``AddMemoryOptions`` and the messages).",
        messages=(fields["messages"].annotation, fields["messages"]),
        metadata=(fields["metadata"].annotation, fields["metadata"]),
        infer=(_infer(extractor), None),
    )


def add_request(conf: Settings) -> type[Scoped]:
    """``POST /v3/memories/add/``'s body under ``conf``'s limits and extractor."""
    model = _add_request(memory_create(conf), conf.extractor)
    model.options = Mem0Request.options | {"infer"}
    model.error_codes = {"messages": "invalid_body", "metadata": "invalid_body"}
    return model


@lru_cache(maxsize=8)
def _search_request(max_chars: int, max_limit: int) -> type[Scoped]:
    return _create(
        "Mem0SearchRequest",
        __base__=Scoped,
        __doc__="Body of ``POST /v3/memories/search/`` (mem0's ``SearchMemoryOptions``).",
        query=(Annotated[str, Field(min_length=1, max_length=max_chars, pattern=QUERY_TEXT_PATTERN)], ...),
        top_k=(
            Annotated[int, Field(ge=1, le=max_limit), BeforeValidator(_integral)] | None,
            Field(None, description="default 10"),
        ),
        threshold=(Annotated[float, Field(ge=0, le=1)] | None, None),
    )


def search_request(conf: Settings) -> type[Scoped]:
    """``POST /v3/memories/search/``'s body under ``conf``'s limits."""
    return _search_request(conf.query_max_chars, conf.search_max_limit)


class GetAllRequest(Scoped):
    """Body of ``POST /v3/memories/`` (mem0's ``GetAllMemoryOptions``; pages are query parameters)."""


class PageQuery(Mem0Query):
    """Query of ``POST /v3/memories/``."""

    page: query_int(MAX_PAGE, 1) = 1  # type: ignore[valid-type]
    page_size: query_int(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE) = DEFAULT_PAGE_SIZE  # type: ignore[valid-type]


class MemoryIdPath(RequestModel):
    """A memory by its id (the client sends no user)."""

    memory_id: MemoryId


class OwnerQuery(Mem0Query):
    """Query of the by-id routes: ``user_id`` restricts the call to that user's memories."""

    user_id: UserId | None = Field(None, description="another user's memory answers 404")


class DeleteAllQuery(Mem0Query):
    """Query of ``DELETE /v1/memories/``: a user, top level or in ``filters`` (sent as ``str(dict)``)."""

    # Documented as required: without it (or filters) the answer is 400 missing_user_id.
    model_config = ConfigDict(json_schema_extra={"required": ["user_id"]})
    user_id: UserId | None = Field(None, description="whose memories to delete")
    # MemoryClient's own encoding of the scope (str(dict)), accepted without user_id, not documented:
    # no schema says "a Python literal naming the same user".
    filters: SkipJsonSchema[str | None] = Field(None, max_length=2000)


def _unreserved(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    """Refuse the keys Mem0 and the platform keep for themselves, but the fact's own (re-derived)."""
    for key, value in (metadata or {}).items():
        if key in RESERVED_METADATA_KEYS - FACT_METADATA_KEYS:
            raise ValueError(f"metadata key {key!r} is reserved")
        if isinstance(value, str) and (problem := storable_text_problem(value)) is not None:
            raise ValueError(f"metadata value of {key!r} {problem}")
    return metadata


@lru_cache(maxsize=8)
def _update_request(create: type[MemoryCreate], max_chars: int) -> type[Mem0Request]:
    metadata = create.model_fields["metadata"]
    return _create(
        "Mem0UpdateRequest",
        __base__=Mem0Request,
        __doc__="Body of ``PUT /v1/memories/{memory_id}/`` (mem0's ``UpdateMemoryOptions``).",
        text=(Annotated[str, Field(min_length=1, max_length=max_chars, pattern=QUERY_TEXT_PATTERN)], ...),
        # Accepted (it must then agree with the query's user_id), documented in the query only.
        user_id=(SkipJsonSchema[UserId | None], None),
        # As the hosted platform: replaces the memory's metadata. category, topic and value are
        # accepted (a fronting platform's hosted backend sends its own) and re-derived from the text.
        metadata=(
            Annotated[metadata.annotation, AfterValidator(_unreserved)],  # type: ignore[name-defined]
            Field(None, description="replaces the memory's metadata; category/topic/value follow the text"),
        ),
        expiration_date=(None, Field(None, description="null only: memories do not expire here")),
    )


def update_request(conf: Settings) -> type[Mem0Request]:
    """``PUT /v1/memories/{memory_id}/``'s body under ``conf``'s limit on text."""
    model = _update_request(memory_create(conf), conf.max_message_chars)
    model.options = Mem0Request.options | {"expiration_date"}
    model.error_codes = {"metadata": "invalid_metadata"}
    return model


# --- validation errors as the platform's -----------------------------------------------------------

_REASONS = {"metadata": "batch_update takes text only, as Mem0's: update one memory to set its metadata"}
_SCOPE_CODES = {"user_id": "invalid_user_id", "run_id": "invalid_session_id"}


def _error_of(model: type[BaseModel], error: Any) -> PlatformError:
    loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
    kind, name = error["type"], loc[0] if loc else "body"
    if loc[:1] == ["filters"] and len(loc) > 1:
        leaf = loc[-1] if loc[-1] in ("user_id", "run_id") else loc[1]
        if kind == "extra_forbidden" or leaf not in ("user_id", "run_id"):
            return compat.unsupported(
                f"filters.{leaf}", "only user_id and run_id filters (alone or under AND)"
            )
        if error.get("input") == "*":
            return compat.unsupported(f"filters.{leaf}", "wildcards are not supported: name one user")
        if not isinstance(error.get("input"), str):
            return compat.unsupported(f"filters.{leaf}", f"{leaf} must be one plain string (no operators)")
        return InvalidInput(f"filters.{leaf}: {error['msg']}", code=_SCOPE_CODES[leaf])
    if kind == "extra_forbidden" or name in getattr(model, "options", ()):
        return compat.unsupported(name, _REASONS.get(name))
    if name == "filters":
        return InvalidInput(f"filters: {error['msg']}", code="invalid_filters")
    codes = getattr(model, "error_codes", {})
    code = codes.get(name) or _SCOPE_CODES.get(name) or f"invalid_{name}"
    return InvalidInput(f"{'.'.join(loc) or 'body'}: {error['msg']}", code=code)


def refusal(model: type[BaseModel], exc: ValidationError) -> PlatformError:
    """The error to answer: an unsupported option first (as Mem0 reads it), else the first problem."""
    errors = [_error_of(model, e) for e in exc.errors()]
    unsupported = [e for e in errors if isinstance(e, compat.UnsupportedOption)]
    # Top-level options before filters, as the body is read: MemoryClient puts agent_id in both.
    unsupported.sort(key=lambda e: "." in e.details.get("option", ""))
    return (unsupported or errors)[0]


def parse(model: type[BaseModel], data: Mapping[str, Any], where: str) -> Any:
    """``data`` (the request's ``where``) as ``model``, refused as ``refusal`` says; paths as in v1."""
    if where == "path":
        return validate(model, data, where)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise refusal(model, exc) from None
