"""Pydantic models of the v1 API: path and query parameters, and every answer's body.

Request bodies live in ``validation`` (shared with the Mem0-compatible API). Models whose limits are
settings are built per settings (``search_query``); the same model validates and documents.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from config.settings import Settings
from memcache_platform.api.contract import QueryModel, RequestModel
from memcache_platform.ids import SESSION_ID_PATTERN, USER_ID_PATTERN

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Text a query can be: not blank (what str.strip removes, spelled out: regex engines disagree on
# \s), no NUL (PostgreSQL and the embedder refuse it).
_BLANK = "\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
QUERY_TEXT_PATTERN = f"^[^\\x00]*[^\\x00{_BLANK}][^\\x00]*$"


def _ascii_digits(value: Any) -> Any:
    """Query integers are plain ASCII digits: ``int("²")`` raises, pydantic would read ``"1.0"``."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be an integer written in ASCII digits")
    return value


UserId = Annotated[str, Field(pattern=USER_ID_PATTERN, description="1-128 of [A-Za-z0-9_.:@-]")]
SessionId = Annotated[str, Field(pattern=SESSION_ID_PATTERN, description="1-128 of [A-Za-z0-9_.:@-]")]
# Normalised as Mem0 writes ids (lower case).
MemoryId = Annotated[
    str, Field(pattern=UUID_PATTERN, json_schema_extra={"format": "uuid"}), AfterValidator(str.lower)
]


def query_int(maximum: int, default: int) -> Any:
    """An integer query parameter from 1 to ``maximum``."""
    return Annotated[
        int, Field(ge=1, le=maximum, json_schema_extra={"default": default}), BeforeValidator(_ascii_digits)
    ]


# --- path parameters ----------------------------------------------------------------------------


class UserPath(RequestModel):
    """A route of one user."""

    user_id: UserId


class MemoryPath(UserPath):
    """One memory of one user."""

    memory_id: MemoryId


class TaskPath(RequestModel):
    """One task."""

    task_id: MemoryId


# --- query parameters ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _search_query(max_chars: int, max_limit: int) -> type[QueryModel]:
    return create_model(
        "SearchQuery",
        __base__=QueryModel,
        __doc__="Query of a search.",
        q=(Annotated[str, Field(min_length=1, max_length=max_chars, pattern=QUERY_TEXT_PATTERN)], ...),
        limit=(query_int(max_limit, 10), 10),
        session_id=(SessionId | None, Field(None, description="one conversation (Mem0's run_id)")),
    )


def search_query(conf: Settings) -> type[QueryModel]:
    """``GET /v1/users/{user_id}/search``'s query, within the configured limits."""
    model = _search_query(conf.query_max_chars, conf.search_max_limit)
    model.error_codes = {"q": "invalid_query"}
    return model


class StatsQuery(QueryModel):
    """Query of ``GET /v1/stats/favorites``."""

    topic: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00]*$")] | None = None
    limit: query_int(100, 10) = 10  # type: ignore[valid-type]


# --- answers ------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    message: str
    details: dict[str, Any] | None = None


class Error(BaseModel):
    """Every error: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


class Memory(BaseModel):
    """One memory as the v1 API shows it."""

    id: str
    memory: str
    category: str
    topic: str | None = None
    value: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    session_id: str | None = None


class WriteCache(BaseModel):
    """What a write did to the cache tiers."""

    mode: Literal["async", "strict"]
    handoff: str | None = None
    rebuild: dict[str, Any] | None = None
    watermark: int | None = None


class WrittenMemory(BaseModel):
    """What a write did to one memory (``services/supersede.py``): ADD a new one, UPDATE the one it
    replaces (a single-valued kind such as a favourite of a topic), DELETE the one it takes back, or
    NONE (already known: restated; or a retraction with nothing to take back, then ``id`` is null)."""

    id: str | None
    memory: str
    category: str
    topic: str | None = None
    value: str | None = None
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    event_id: str | None = Field(
        None, description="Hosted backend: the queued add's Mem0 event (``id`` is null until it SUCCEEDED)."
    )


class MemoriesWritten(BaseModel):
    """Answer of a write; ``pending``: accepted by the hosted platform, searchable once its events end."""

    memories: list[WrittenMemory]
    cache: WriteCache
    pending: bool = False
    event_ids: list[str] = Field(default_factory=list)


class MemoryList(BaseModel):
    """Every memory of a user."""

    user_id: str
    memories: list[Memory]
    count: int


class SearchHit(BaseModel):
    """One search result."""

    id: str
    memory: str
    category: str
    score: float | None = None


class SearchAnswer(BaseModel):
    """Search results and the tier that served them."""

    user_id: str
    query: str
    results: list[SearchHit]
    tier: Literal["L2", "L4"]
    watermark: int | None = None
    generation: int | None = None
    degraded: bool
    stale: bool
    pending: bool = Field(
        False, description="A hosted add of the user is still queued: answered from L4, which may lack it."
    )


class Favorites(BaseModel):
    """A user's favourites summary."""

    user_id: str
    favorites: dict[str, list[str]]
    dislikes: dict[str, list[str]]
    top_skills: list[str]
    profile: dict[str, str]
    counts: dict[str, int]
    memory_count: int
    built_at: str = Field(json_schema_extra={"format": "date-time"})
    built_from: int | None
    watermark: int | None
    stale: bool
    tier: Literal["L3", "L4"]
    degraded: bool


class CacheStatus(BaseModel):
    """A user's tier status (fields of a tier that could not be read are absent)."""

    user_id: str
    watermark: int | None = None
    built_from: int | None
    built_at: str | None
    generation: int | None = None
    generation_built_from: int | None = None
    pending: bool | None = None
    stale: bool
    lag_s: float
    hot_queries: list[dict[str, Any]] | None = None
    mem0_events: dict[str, list[Any]] | None = Field(
        None, description="Hosted adds still queued (event ids) and the latest that FAILED or were abandoned."
    )
    entries: dict[str, int | None]
    tiers: dict[str, Literal["ok", "unavailable"]]


class TaskRef(BaseModel):
    """An enqueued task."""

    task_id: str
    status_url: str


class TaskState(BaseModel):
    """A task's state, result, and for a sweep its progress."""

    model_config = ConfigDict(extra="allow")
    task_id: str
    state: str
    name: str | None = None
    result: Any = None
    progress: dict[str, Any] | None = None


class Erased(BaseModel):
    """What erasing a user removed."""

    user_id: str
    erased: dict[str, Any]


class TopFavorite(BaseModel):
    """One favourite and how many users share it."""

    model_config = ConfigDict(extra="allow")
    value: str
    users: int


class GlobalFavorites(BaseModel):
    """Most common favourites per topic."""

    topics: dict[str, list[TopFavorite]]
    refreshed_at: str | None


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """Readiness per dependency."""

    status: Literal["ok", "degraded", "unavailable", "starting"]
    checks: dict[str, dict[str, Any]]


class Document(BaseModel):
    """An OpenAPI document."""

    model_config = ConfigDict(extra="allow")
    openapi: str
