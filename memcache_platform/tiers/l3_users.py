"""The ``known_users`` table: every user the sweep plans, paged by key, joined with its L3 state.

A sweep reads it a page at a time (keyset pagination on the primary key, no long transaction):
the cost of a quiet sweep is one index range scan per page, never a scan of Mem0's table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from memcache_platform.db.models import KnownUser
from memcache_platform.tiers.l3_store import BuildState, L3Store

RECONCILED = "l4_users"  # its row in l3_view_refresh: when L4 was last reconciled
_COLUMNS = (
    "SELECT u.user_id, s.built_from_watermark, s.built_at, s.source_memory_count, d.marked_at, "
    "k.l4_memory_count, k.l4_newest_at, k.l4_checked_at FROM "
)
_JOINS = (
    " LEFT JOIN user_cache_state s ON s.user_id = u.user_id"
    " LEFT JOIN user_dirty_marks d ON d.user_id = u.user_id "
)
# A page of ids first, then its joins; the repeated ``> :after`` lets each index scan start at the
# page instead of at the first user (a merge join otherwise re-reads every earlier row: O(n²)).
_PAGE = text(
    _COLUMNS.replace("k.", "u.")
    + "(SELECT * FROM known_users WHERE user_id > :after ORDER BY user_id LIMIT :limit) u"
    + _JOINS.replace("s.user_id = u.user_id", "s.user_id = u.user_id AND s.user_id > :after").replace(
        "d.user_id = u.user_id", "d.user_id = u.user_id AND d.user_id > :after"
    )
    + "ORDER BY u.user_id"
)
_SOME = text(
    _COLUMNS + "unnest(CAST(:ids AS text[])) AS u(user_id) "
    "LEFT JOIN known_users k ON k.user_id = u.user_id" + _JOINS + "ORDER BY u.user_id"
)


class UserRow(NamedTuple):
    """What the planner needs of one user: build state, dirty mark, L4's last counts.

    A tuple, not a dataclass: a million of them are made per sweep, and a tuple is ~3x cheaper.
    """

    user_id: str
    state: BuildState | None
    marked_at: datetime | None
    l4_count: int | None
    l4_newest_at: datetime | None
    l4_checked_at: datetime | None


class L3Users:
    """Reads and upserts ``known_users``; raises ``CacheUnavailable`` when L3 is away."""

    def __init__(self, l3: L3Store) -> None:
        self.l3 = l3

    @property
    def engine(self) -> Engine:
        return self.l3.engine

    def pages(self, page_size: int = 1000) -> Iterator[list[UserRow]]:
        """Every known user in id order, ``page_size`` at a time; each page is one short query.

        The next page is fetched in a thread while the caller works on this one (its watermark
        reads): the waits on PostgreSQL and Redis overlap. At most two pages are held at once.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="l3-users-page") as pool:
            future = pool.submit(self._page, "", page_size)
            while rows := future.result():
                future = pool.submit(self._page, rows[-1].user_id, page_size)
                yield rows

    def _page(self, after: str, page_size: int) -> list[UserRow]:
        with self.l3._unavailable_as_platform_error(), self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(_PAGE, {"after": after, "limit": page_size})]

    def rows(self, user_ids: list[str]) -> list[UserRow]:
        """The rows of ``user_ids`` (known or not), in id order."""
        with self.l3._unavailable_as_platform_error(), self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(_SOME, {"ids": sorted(set(user_ids))})]

    def add_many(self, user_ids: Iterable[str]) -> None:
        """Record users (already known ones stay as they are)."""
        values = [{"user_id": u} for u in set(user_ids)]
        if not values:
            return
        with self.l3._unavailable_as_platform_error(), self.engine.begin() as conn:
            conn.execute(pg_insert(KnownUser).on_conflict_do_nothing(), values)

    def record_l4(self, stats: Iterable[tuple[str, int, datetime | None]], checked_at: datetime) -> None:
        """Store one page of L4's per-user counts, as taken at ``checked_at``."""
        values = [
            {"user_id": u, "l4_memory_count": n, "l4_newest_at": newest, "l4_checked_at": checked_at}
            for u, n, newest in stats
        ]
        if not values:
            return
        upsert = pg_insert(KnownUser)
        update = {c: upsert.excluded[c] for c in ("l4_memory_count", "l4_newest_at", "l4_checked_at")}
        with self.l3._unavailable_as_platform_error(), self.engine.begin() as conn:
            conn.execute(upsert.on_conflict_do_update(index_elements=["user_id"], set_=update), values)

    def close_l4(self, checked_at: datetime) -> None:
        """After a full reconciliation: users L4 did not list hold no memories as of ``checked_at``."""
        statement = text(
            "UPDATE known_users SET l4_memory_count = 0, l4_newest_at = NULL, l4_checked_at = :t "
            "WHERE l4_checked_at IS DISTINCT FROM :t"
        )
        with self.l3._unavailable_as_platform_error(), self.engine.begin() as conn:
            conn.execute(statement, {"t": checked_at})

    def last_reconciled(self) -> datetime | None:
        """When L4 was last reconciled into this table, if ever."""
        query = text("SELECT refreshed_at FROM l3_view_refresh WHERE name = :n")
        with self.l3._unavailable_as_platform_error(), self.engine.connect() as conn:
            return conn.execute(query, {"n": RECONCILED}).scalar_one_or_none()

    def mark_reconciled(self, at: datetime, duration_ms: float) -> None:
        """Record a finished reconciliation."""
        statement = text(
            "INSERT INTO l3_view_refresh (name, refreshed_at, duration_ms) VALUES (:n, :t, :ms) "
            "ON CONFLICT (name) DO UPDATE SET refreshed_at = :t, duration_ms = :ms"
        )
        with self.l3._unavailable_as_platform_error(), self.engine.begin() as conn:
            conn.execute(statement, {"n": RECONCILED, "t": at, "ms": duration_ms})


def _row(r: object) -> UserRow:
    user_id, wm, built_at, count, marked_at, l4_count, l4_newest, l4_checked = r  # type: ignore[misc]
    state = BuildState(wm, built_at, count) if built_at is not None else None
    return UserRow(user_id, state, marked_at, l4_count, l4_newest, l4_checked)
