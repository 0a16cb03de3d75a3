"""Pydantic models of the Mem0-compatible API's answers (as ``mem0.MemoryClient`` reads them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, RootModel

from memcache_platform.api.models import ErrorDetail


class Mem0Error(BaseModel):
    """The platform's error plus Mem0's ``detail``, which MemoryClient shows in its exceptions."""

    error: ErrorDetail
    detail: str


class Ping(BaseModel):
    """What MemoryClient's constructor needs back."""

    status: Literal["ok"]
    message: str
    org_id: str
    project_id: str
    user_email: str | None


class CacheOutcome(BaseModel):
    """What a write did to the cache tiers (the platform's addition to Mem0's answers)."""

    model_config = ConfigDict(extra="allow")
    mode: Literal["async", "strict"] | None = None
    handoff: str | None = None
    watermark: int | None = None


class Mem0Memory(BaseModel):
    """One memory as Mem0's ``get``/``get_all`` return it."""

    id: str
    memory: str
    user_id: str | None
    run_id: str | None
    metadata: dict[str, Any] | None
    categories: list[str]
    created_at: str | None
    updated_at: str | None


class Added(BaseModel):
    """One memory a write changed: ADD, UPDATE (a single-valued fact replaced), DELETE (taken back).

    Behind the hosted backend an ADD may still be queued there: ``id`` null, ``event_id`` set.
    """

    id: str | None
    memory: str
    event: Literal["ADD", "UPDATE", "DELETE"]
    user_id: str
    run_id: str | None
    categories: list[str]
    event_id: str | None = None


class Queued(BaseModel):
    """An add in ``async_mode``, queued as the hosted platform does: follow ``GET /v1/event/{id}/``."""

    message: str
    status: Literal["PENDING"]
    event_id: str


class AddAnswer(BaseModel):
    """Answer of ``add``: the stored memories, or (``async_mode``) the queued event.

    201 with ``pending`` true: this platform fronts the hosted one, which queued the adds; they are
    searchable once ``event_ids`` have SUCCEEDED (searches of the user skip L2 meanwhile).
    """

    results: list[Added | Queued]
    cache: CacheOutcome | None = None
    pending: bool = False
    event_ids: list[str] = []


class EventResult(BaseModel):
    """One memory an event changed, as the hosted platform reports it."""

    id: str | None
    event: Literal["ADD", "UPDATE", "DELETE"]
    user_id: str | None = None
    data: dict[str, Any]


class Mem0Event(BaseModel):
    """``GET /v1/event/{id}/``: an async-mode add's state, with its results once SUCCEEDED."""

    id: str
    event_type: Literal["ADD"]
    status: Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED"]
    user_id: str
    results: list[EventResult]
    created_at: str
    updated_at: str
    latency: float | None = None
    detail: str | None = None


class Hit(BaseModel):
    """One search hit."""

    id: str
    memory: str
    score: float | None
    categories: list[str]
    user_id: str


class Mem0SearchAnswer(BaseModel):
    """Answer of ``search``."""

    results: list[Hit]
    tier: Literal["L2", "L4"]
    degraded: bool


class MemoryPage(BaseModel):
    """One page of ``get_all``, DRF style."""

    count: int
    next: str | None
    previous: str | None
    results: list[Mem0Memory]


class Updated(Mem0Memory):
    """Answer of ``update``."""

    message: str
    cache: CacheOutcome


class Deleted(BaseModel):
    """Answer of ``delete`` and ``delete_all``."""

    message: str
    deleted: int | None = None
    cache: CacheOutcome


class HistoryEntry(BaseModel):
    """One change of a memory in Mem0's log."""

    model_config = ConfigDict(extra="allow")
    user_id: str


class History(RootModel[list[HistoryEntry]]):
    """Answer of ``history``: the changes, oldest first."""


class Entity(BaseModel):
    """One user with memories."""

    id: str
    name: str
    type: Literal["user"]


class Entities(BaseModel):
    """Answer of ``users``."""

    count: int
    results: list[Entity]
