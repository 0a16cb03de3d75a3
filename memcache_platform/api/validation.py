"""Request bodies: JSON parsing and the memory-write models (validated through ``contract``)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from flask import request
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from config.settings import Settings
from memcache_platform.errors import InvalidInput, PlatformError
from memcache_platform.ids import METADATA_KEY_PATTERN, RESERVED_METADATA_KEYS, SESSION_ID_PATTERN

_METADATA_KEY = re.compile(METADATA_KEY_PATTERN)
MAX_METADATA_KEYS = 20


class UnsupportedMediaType(PlatformError):
    code = "unsupported_media_type"
    status = 415


def storable_text_problem(text: str) -> str | None:
    """Why PostgreSQL (and the embedder) could not take ``text``, or None when it can."""
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def ensure_storable(text: str, name: str) -> str:
    """``text`` if it can be stored and embedded; 400 naming ``name`` otherwise."""
    if (problem := storable_text_problem(text)) is not None:
        raise InvalidInput(f"{name} {problem}", code=f"invalid_{name}")
    return text


# Strict: JSON's own types only ("12" is not the integer 12, so a metadata string stays a string).
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
_NO_NUL = r"^[^\x00]*$"
MetadataKey = Annotated[str, Field(pattern=_METADATA_KEY.pattern)]
# pydantic documents a key pattern as patternProperties, which leaves other keys open: say it whole.
_METADATA_KEYS = {
    "additionalProperties": False,
    "propertyNames": {"pattern": _METADATA_KEY.pattern, "not": {"enum": sorted(RESERVED_METADATA_KEYS)}},
}
MetadataValue = Annotated[str, Field(max_length=512, pattern=_NO_NUL)] | bool | int | float


class Message(BaseModel):
    """One chat message."""

    model_config = _STRICT
    role: Literal["user", "assistant", "system"]
    content: str = Field(min_length=1)

    @field_validator("content")
    @classmethod
    def _storable(cls, value: str) -> str:
        if (problem := storable_text_problem(value)) is not None:
            raise ValueError(problem)
        return value


class MemoryCreate(BaseModel):
    """Body of ``POST /v1/users/{user_id}/memories``."""

    model_config = _STRICT  # allow_inf_nan=False: JSON has no NaN; PostgreSQL's jsonb neither
    messages: list[Message] = Field(min_length=1)
    metadata: (
        Annotated[
            dict[MetadataKey, MetadataValue],
            Field(max_length=MAX_METADATA_KEYS, json_schema_extra=_METADATA_KEYS),
        ]
        | None
    ) = None
    session_id: str | None = Field(None, pattern=SESSION_ID_PATTERN)

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, value: dict[str, object] | None) -> dict[str, object] | None:
        if value is None:
            return value
        if len(value) > MAX_METADATA_KEYS:
            raise ValueError(f"at most {MAX_METADATA_KEYS} metadata keys")
        for key, item in value.items():
            if key in RESERVED_METADATA_KEYS:
                raise ValueError(f"metadata key {key!r} is reserved")
            if not _METADATA_KEY.fullmatch(key):
                raise ValueError(f"metadata key {key!r} must match {_METADATA_KEY.pattern}")
            if isinstance(item, str) and len(item) > 512:
                raise ValueError(f"metadata value of {key!r} is longer than 512 characters")
            if isinstance(item, str) and (problem := storable_text_problem(item)) is not None:
                raise ValueError(f"metadata value of {key!r} {problem}")
        return value


@lru_cache(maxsize=8)
def _memory_create(max_messages: int, max_chars: int) -> type[MemoryCreate]:
    message = create_model(
        "Message",
        __base__=Message,
        __doc__=Message.__doc__,
        content=(Annotated[str, Field(min_length=1, max_length=max_chars)], ...),
    )
    return create_model(
        "MemoryCreate",
        __base__=MemoryCreate,
        __doc__=MemoryCreate.__doc__,
        messages=(list[message], Field(min_length=1, max_length=max_messages)),  # type: ignore[valid-type]
    )


def memory_create(conf: Settings) -> type[MemoryCreate]:
    """``MemoryCreate`` within the configured limits on messages and characters per message."""
    return _memory_create(conf.max_messages, conf.max_message_chars)


def json_object() -> dict[str, Any]:
    """The request's body as a JSON object; 415, 400 or 413 otherwise."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as JSON with 'Content-Type: application/json'")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("the body is not valid JSON", code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    return data
