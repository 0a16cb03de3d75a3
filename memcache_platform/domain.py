"""What a rebuild produces, shared by the services that compute it and the L3 tier that stores it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FactRow:
    """One row of ``user_memory_facts``."""

    memory_id: str
    memory: str
    category: str
    topic: str | None
    value: str | None
    created_at: datetime | None


@dataclass
class FavoriteSummary:
    """Favourites and dislikes per topic (latest first), top skills, profile and counts."""

    favorites: dict[str, list[str]] = field(default_factory=dict)
    dislikes: dict[str, list[str]] = field(default_factory=dict)
    top_skills: list[str] = field(default_factory=list)
    profile: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    memory_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
