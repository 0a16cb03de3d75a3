"""L3 tables: per-user facts, favourites summary and build state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the L3 schema."""


class UserMemoryFact(Base):
    """One memory of a user as L3 holds it: categorised and ready to aggregate."""

    __tablename__ = "user_memory_facts"
    __table_args__ = (Index("ix_user_memory_facts_user_category", "user_id", "category"),)

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    memory_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    memory: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(128))
    value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserFavoriteSummary(Base):
    """The per-user aggregate the favourites endpoint serves."""

    __tablename__ = "user_favorite_summary"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    favorites: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dislikes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    top_skills: Mapped[list[Any]] = mapped_column(JSONB)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    memory_count: Mapped[int] = mapped_column(Integer)


class UserCacheState(Base):
    """When a user's L3 rows were built, and from what (watermark and L4 content)."""

    __tablename__ = "user_cache_state"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    built_from_watermark: Mapped[int | None] = mapped_column(BigInteger)
    source_memory_count: Mapped[int] = mapped_column(Integer)
    source_fingerprint: Mapped[str] = mapped_column(String(64))
    build_ms: Mapped[float] = mapped_column(Float)


class UserDirtyMark(Base):
    """A user written while Redis was unreachable: rebuild them if no build is newer than the mark.

    Durable where the API process's outbox is not (a SIGKILLed process loses it), and countable
    where the hosted Mem0 backend offers no aggregate over L4.
    """

    __tablename__ = "user_dirty_marks"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KnownUser(Base):
    """A user the platform knows: the sweep streams this table, never Mem0's.

    ``l4_*`` hold what the last reconciliation with L4 counted (local backend), taken at
    ``l4_checked_at``: a build older than that check that does not match it is dirty.
    """

    __tablename__ = "known_users"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    l4_memory_count: Mapped[int | None] = mapped_column(Integer)
    l4_newest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    l4_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
