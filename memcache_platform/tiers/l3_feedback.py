"""Feedback on memories (Mem0's ``POST /v1/feedback/``), kept in L3's database as a log per memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, Index, String, Text, delete, insert, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from memcache_platform.db.models import Base
from memcache_platform.errors import CacheUnavailable

FEEDBACK_VALUES = ("POSITIVE", "NEGATIVE", "VERY_NEGATIVE")


class MemoryFeedback(Base):
    """One feedback given on a memory; ``feedback`` None is Mem0's "no rating" (a reason alone)."""

    __tablename__ = "memory_feedback"
    __table_args__ = (
        Index("ix_memory_feedback_user", "user_id"),
        Index("ix_memory_feedback_memory", "memory_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    memory_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))  # the memory's owner, so erasing a user erases it
    feedback: Mapped[str | None] = mapped_column(String(16))
    feedback_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedbackStore:
    """Appends and reads feedback; every row belongs to the owner of its memory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, user_id: str, memory_id: str, feedback: str | None, reason: str | None) -> str:
        """Store one feedback and return its id."""
        row = {
            "id": str(uuid.uuid4()),
            "memory_id": memory_id,
            "user_id": user_id,
            "feedback": feedback,
            "feedback_reason": reason,
            "created_at": datetime.now(UTC),
        }
        with _available(), self.engine.begin() as conn:
            conn.execute(insert(MemoryFeedback), [row])
        return row["id"]

    def of_memory(self, memory_id: str) -> list[dict[str, object]]:
        """Every feedback given on the memory, oldest first."""
        query = select(MemoryFeedback).where(MemoryFeedback.memory_id == memory_id)
        with _available(), self.engine.connect() as conn:
            rows = conn.execute(query.order_by(MemoryFeedback.created_at)).mappings().all()
        return [dict(r) for r in rows]

    def delete_user(self, user_id: str) -> int:
        """Remove every feedback on the user's memories; how many."""
        with _available(), self.engine.begin() as conn:
            return conn.execute(delete(MemoryFeedback).where(MemoryFeedback.user_id == user_id)).rowcount


@contextmanager
def _available() -> Iterator[None]:
    """PostgreSQL unreachable is ``CacheUnavailable`` (503), as for every L3 call."""
    try:
        yield
    except DBAPIError as exc:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            raise CacheUnavailable(f"L3 database unavailable: {exc.orig or exc}") from exc
        raise
