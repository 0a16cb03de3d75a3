"""The HTTP contract in one place: each view declares its pydantic models, which validate its requests
and generate its OpenAPI entry (``memcache_platform.api.openapi``), so the two cannot drift.

``@operation(...)`` on a view names its path, query and body models and its answers (status → model);
the wrapper validates the request with those models and calls the view with ``path=``, ``query=``
and ``body=``. A model can also be a function of the app's ``Settings`` (limits that are settings).
A route that must stay out of the document (the Mem0 endpoints not served here) is ``@undocumented``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from config.settings import Settings
from memcache_platform.api.context import settings
from memcache_platform.api.validation import json_object
from memcache_platform.errors import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])
ModelSource = type[BaseModel] | Callable[[Settings], type[BaseModel]]

# Statuses with a fixed meaning on every route that can answer them.
DESCRIPTIONS = {
    400: "invalid request (error.code names the problem)",
    401: "missing or invalid API key",
    403: "the key may not reach this user or route (tenant-restricted or non-admin key)",
    404: "not found",
    413: "body larger than MEMCACHE_MAX_BODY_BYTES",
    415: "body not sent as application/json",
    429: "rate limited: Retry-After and X-RateLimit-* say when to retry",
    502: "Mem0 (L4) failed",
    503: "a dependency is unavailable (Mem0, or a cache a route needs); retry later",
}
RATE_LIMIT_HEADERS = {
    "Retry-After": "seconds until the window resets",
    "X-RateLimit-Limit": "requests allowed in the tightest window",
    "X-RateLimit-Remaining": "requests left in that window",
    "X-RateLimit-Reset": "when that window resets (Unix time)",
}


class RequestModel(BaseModel):
    """Base of request models: unknown fields refused, no NaN (JSON has none)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    # The error code of a problem in field ``name``: ``error_codes[name]``, else ``invalid_<name>``.
    error_codes: ClassVar[dict[str, str]] = {}


class QueryModel(RequestModel):
    """Query parameters: unknown ones are ignored, as HTTP APIs usually do."""

    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class Answer:
    """One documented status of an operation."""

    model: type[BaseModel] | None = None
    description: str = ""
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What a view accepts and answers; ``errors`` are statuses answered with the error shape."""

    summary: str
    answers: Mapping[int, Answer]
    errors: tuple[int, ...] = ()
    path: ModelSource | None = None
    query: ModelSource | None = None
    body: ModelSource | None = None
    security: tuple[str, ...] = ("bearer",)
    tags: tuple[str, ...] = ("v1",)
    error_model: type[BaseModel] | None = None
    # How a model reads one part of the request (``validate``'s arguments); an API may map errors its way.
    parser: Callable[[type[BaseModel], Mapping[str, Any], str], Any] | None = None

    def model(self, source: ModelSource | None, conf: Settings) -> type[BaseModel] | None:
        """``source`` as a model class for ``conf``."""
        if source is None or (isinstance(source, type) and issubclass(source, BaseModel)):
            return source
        return source(conf)


def _problem(exc: ValidationError, where: str) -> tuple[str, str]:
    """The first problem of ``exc``: its field's name and a message naming it."""
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    name = loc[0] if loc else where
    parts = [f"{'.'.join(loc) or where}: {e['msg']}" for e in exc.errors()[:3]]
    return name, "; ".join(parts)


def validate(model: type[BaseModel], data: Mapping[str, Any], where: str) -> Any:
    """``data`` as ``model``; 400 with the code of the first bad field (``invalid_body`` for a body)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        name, message = _problem(exc, where)
        codes = getattr(model, "error_codes", {})
        code = codes.get(name) or ("invalid_body" if where == "body" else f"invalid_{name}")
        raise InvalidInput(message, code=code) from None


def operation(summary: str, answers: Mapping[int, Answer], **options: Any) -> Callable[[F], F]:
    """Declare a view's contract; the view gets the validated ``path``, ``query`` and ``body``."""
    op = Operation(summary, answers, **options)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(**view_args: Any) -> Any:
            kwargs: dict[str, Any] = {}
            for name, source, data in (
                ("path", op.path, lambda: view_args),
                ("query", op.query, lambda: request.args.to_dict()),
                ("body", op.body, json_object),
            ):
                if source is None:  # no settings needed (a bare app serving /metrics has none)
                    continue
                model = op.model(source, settings())
                if model is not None:
                    kwargs[name] = (op.parser or validate)(model, data(), name)
            return view(**kwargs)

        wrapper.contract = op  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def undocumented(view: F) -> F:
    """Keep a route out of the document (it still answers as before)."""
    view.contract = None  # type: ignore[attr-defined]
    return view
