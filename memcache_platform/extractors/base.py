"""The fact type every extractor returns and the protocol extractors implement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Kept as a tuple (not an Enum) because the values travel as plain strings in memory metadata.
CATEGORIES: tuple[str, ...] = ("favorite", "dislike", "skill", "profile", "other")


@dataclass(frozen=True)
class Fact:
    """One short memory distilled from a user's message."""

    text: str
    category: str
    topic: str | None = None
    value: str | None = None
    # A statement that takes back an earlier like or favourite ("I don't like sushi anymore"):
    # never stored itself; it removes the memory it retracts (services/supersede.py).
    retract: bool = False

    def __post_init__(self) -> None:
        """Reject unknown categories so a typo cannot leak into stored metadata."""
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown fact category {self.category!r}; expected one of {CATEGORIES}")

    def metadata(self) -> dict[str, str]:
        """Return category, topic and value for storage, leaving out the ones that are None."""
        fields = {"category": self.category, "topic": self.topic, "value": self.value}
        return {key: value for key, value in fields.items() if value is not None}


@runtime_checkable
class Extractor(Protocol):
    """Something that turns chat messages into facts worth remembering."""

    name: str

    def extract(self, messages: Sequence[Mapping[str, str]]) -> list[Fact]:
        """Return the facts stated in ``messages`` (each a mapping with "role" and "content")."""
        ...
