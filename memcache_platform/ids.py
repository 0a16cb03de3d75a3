"""Validation of the identifiers that reach Redis keys, SQL parameters and Mem0 filters."""

from __future__ import annotations

import re
import uuid

from memcache_platform.errors import InvalidInput

USER_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"
_USER_ID = re.compile(USER_ID_PATTERN)
SESSION_ID_PATTERN = USER_ID_PATTERN


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
