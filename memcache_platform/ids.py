"""Validation of the identifiers that reach Redis keys, SQL parameters and Mem0 filters and payloads."""

from __future__ import annotations

import re
import uuid

from memcache_platform.errors import InvalidInput

USER_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"
_USER_ID = re.compile(USER_ID_PATTERN)
SESSION_ID_PATTERN = USER_ID_PATTERN
# Metadata keys a caller may set, and those Mem0 keeps for itself or the platform sets on each fact
# (the API refuses them; ``memcache import`` drops them from a Mem0 export, where they describe the
# memory in the store it came from).
METADATA_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
RESERVED_METADATA_KEYS = frozenset(
    {
        "user_id",
        "agent_id",
        "run_id",
        "actor_id",
        "role",
        "data",
        "hash",
        "id",
        "created_at",
        "updated_at",
        "category",
        "topic",
        "value",
        "extractor",
        "attributed_to",
        "expiration_date",
        "text_lemmatized",
    }
)
# The reserved keys that describe a memory's fact: the platform derives them from the text (a
# fronting platform's hosted backend sends its own, which the Mem0-compatible writes accept).
FACT_METADATA_KEYS = frozenset({"category", "topic", "value", "extractor"})


def validate_user_id(user_id: object) -> str:
    """``user_id`` if it is 1–128 characters of ``[A-Za-z0-9_.:@-]``, else ``InvalidInput``."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise InvalidInput(
            "user_id must be 1-128 characters of letters, digits and _ . : @ -", code="invalid_user_id"
        )
    return user_id


def validate_session_id(session_id: object) -> str:
    """Same alphabet and length as user ids."""
    if not isinstance(session_id, str) or not _USER_ID.fullmatch(session_id):
        raise InvalidInput(
            "session_id must be 1-128 characters of letters, digits and _ . : @ -", code="invalid_session_id"
        )
    return session_id


def validate_memory_id(memory_id: str) -> str:
    """Memory ids are UUIDs (Mem0's own); anything else is refused before it reaches the store."""
    try:
        return str(uuid.UUID(memory_id))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput("memory_id must be a UUID", code="invalid_memory_id") from None
