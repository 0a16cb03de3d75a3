"""L3: per-user aggregates in PostgreSQL, replaced per user in one transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, create_engine, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError

from memcache_platform.db.models import (
    KnownUser,
    UserCacheState,
    UserDirtyMark,
    UserFavoriteSummary,
    UserMemoryFact,
)
from memcache_platform.domain import FactRow, FavoriteSummary
from memcache_platform.errors import CacheUnavailable


@dataclass(frozen=True)
class L3Build:
    """Everything one rebuild writes for one user."""

    user_id: str
    facts: list[FactRow]
    summary: FavoriteSummary
    built_at: datetime
    built_from_watermark: int | None
    source_fingerprint: str
    build_ms: float


@dataclass(frozen=True)
class BuildState:
    """When a user was last built, from which watermark, from how many memories."""

    built_from_watermark: int | None
    built_at: datetime
    memory_count: int


@dataclass(frozen=True)
class L3Entry:
    """What L3 holds for one user."""

    summary: FavoriteSummary
    built_at: datetime
    built_from_watermark: int | None
    source_fingerprint: str


class L3Store:
    """Reads and replaces one user's L3 rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, sqlalchemy_url: str) -> L3Store:
        engine = create_engine(
            sqlalchemy_url,
            pool_pre_ping=True,  # a PostgreSQL restart costs no failed request
            pool_timeout=5,
            connect_args={"connect_timeout": 3},
        )
        return cls(engine)

    @contextmanager
    def _unavailable_as_platform_error(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise CacheUnavailable(f"L3 database unavailable: {exc.orig or exc}") from exc
            raise

    def replace_user(self, build: L3Build) -> bool:
        """Replace the user's rows in one transaction; False when a newer build is already stored.

        Also False (nothing stored) for a user with no memories that L3 does not know at all.
        """
        with self._unavailable_as_platform_error(), self.engine.begin() as conn:
            # Serialises rebuilds of one user, so two can never interleave their deletes and inserts.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:u, 0))"), {"u": build.user_id})
            stored = conn.execute(
                select(UserCacheState.built_from_watermark).where(UserCacheState.user_id == build.user_id)
            ).first()
            newer = build.built_from_watermark
            # An older read of L4 must not overwrite a newer build. Watermark 0 says "no write known"
            # (Redis restarted empty and lost the keys): it proves nothing older, so it must not lock
            # out every rebuild until the user's next write (the user stuck dirty across sweeps).
            if stored and stored[0] is not None and newer and stored[0] > newer:
                return False
            if stored is None and not build.facts and not self._is_known(conn, build.user_id):
                # No memories, no row, not a user the sweep plans: a user erased while a rebuild was
                # queued. Storing the empty build would bring it back (known_users too) for good.
                return False
            conn.execute(delete(UserMemoryFact).where(UserMemoryFact.user_id == build.user_id))
            if build.facts:
                conn.execute(
                    insert(UserMemoryFact), [{"user_id": build.user_id, **vars(f)} for f in build.facts]
                )
            summary = build.summary.to_dict()
            upsert = pg_insert(UserFavoriteSummary).values(user_id=build.user_id, **summary)
            conn.execute(upsert.on_conflict_do_update(index_elements=["user_id"], set_=summary))
            state = {
                "built_at": build.built_at,
                "built_from_watermark": build.built_from_watermark,
                "source_memory_count": build.summary.memory_count,
                "source_fingerprint": build.source_fingerprint,
                "build_ms": build.build_ms,
            }
            upsert = pg_insert(UserCacheState).values(user_id=build.user_id, **state)
            conn.execute(upsert.on_conflict_do_update(index_elements=["user_id"], set_=state))
            conn.execute(pg_insert(KnownUser).values(user_id=build.user_id).on_conflict_do_nothing())
            self._answer_dirty_marks(conn, build)
        return True

    @staticmethod
    def _is_known(conn: Connection, user_id: str) -> bool:
        return conn.execute(select(KnownUser.user_id).where(KnownUser.user_id == user_id)).first() is not None

    @staticmethod
    def _answer_dirty_marks(conn: Connection, build: L3Build) -> None:
        """This build read L4 after every write marked before it: those marks are answered."""
        conn.execute(
            delete(UserDirtyMark).where(
                UserDirtyMark.user_id == build.user_id, UserDirtyMark.marked_at < build.built_at
            )
        )

    def mark_dirty(self, user_id: str, *, timeout_ms: int) -> None:
        """Upsert the user's durable dirty mark at now(); the statement is bounded by ``timeout_ms``."""
        upsert = pg_insert(UserDirtyMark).values(user_id=user_id, marked_at=func.now())
        with self._unavailable_as_platform_error(), self.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
            conn.execute(
                upsert.on_conflict_do_update(index_elements=["user_id"], set_={"marked_at": func.now()})
            )
            conn.execute(pg_insert(KnownUser).values(user_id=user_id).on_conflict_do_nothing())

    def dirty_marks(self) -> dict[str, datetime]:
        """Every standing dirty mark (user id → when marked), in one query: what a sweep plans with."""
        query = select(UserDirtyMark.user_id, UserDirtyMark.marked_at)
        with self._unavailable_as_platform_error(), self.engine.connect() as conn:
            return {row.user_id: row.marked_at for row in conn.execute(query)}

    def get(self, user_id: str) -> L3Entry | None:
        """The user's summary and build state, or None when L3 has never built this user."""
        query = (
            select(UserFavoriteSummary, UserCacheState)
            .join(UserCacheState, UserCacheState.user_id == UserFavoriteSummary.user_id)
            .where(UserFavoriteSummary.user_id == user_id)
        )
        with self._unavailable_as_platform_error(), self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        mapping = row._mapping
        summary = FavoriteSummary(
            favorites=mapping["favorites"],
            dislikes=mapping["dislikes"],
            top_skills=mapping["top_skills"],
            profile=mapping["profile"],
            counts=mapping["counts"],
            memory_count=mapping["memory_count"],
        )
        return L3Entry(
            summary, mapping["built_at"], mapping["built_from_watermark"], mapping["source_fingerprint"]
        )

    def facts(self, user_id: str) -> list[FactRow]:
        """The user's fact rows, oldest first."""
        query = (
            select(UserMemoryFact)
            .where(UserMemoryFact.user_id == user_id)
            .order_by(UserMemoryFact.created_at, UserMemoryFact.memory_id)
        )
        with self._unavailable_as_platform_error(), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [FactRow(r.memory_id, r.memory, r.category, r.topic, r.value, r.created_at) for r in rows]

    def build_states(self, users: list[str] | None = None) -> dict[str, BuildState]:
        """Every built user's build state (or only ``users``'), in one query: what a sweep plans with."""
        query = select(
            UserCacheState.user_id,
            UserCacheState.built_from_watermark,
            UserCacheState.built_at,
            UserCacheState.source_memory_count,
        )
        if users is not None:
            query = query.where(UserCacheState.user_id.in_(users))
        with self._unavailable_as_platform_error(), self.engine.connect() as conn:
            return {row.user_id: BuildState(row[1], row[2], row[3]) for row in conn.execute(query)}

    def refresh_global_favorites(self) -> float:
        """Refresh the global favourites view without blocking its readers; returns milliseconds."""
        started = time.perf_counter()
        with self._unavailable_as_platform_error(), self.engine.begin() as conn:
            conn.execute(text("REFRESH MATERIALIZED VIEW CONCURRENTLY global_favorite_stats"))
            duration_ms = (time.perf_counter() - started) * 1000
            conn.execute(
                text(
                    "INSERT INTO l3_view_refresh (name, refreshed_at, duration_ms) "
                    "VALUES ('global_favorite_stats', now(), :ms) "
                    "ON CONFLICT (name) DO UPDATE SET refreshed_at = now(), duration_ms = :ms"
                ),
                {"ms": duration_ms},
            )
        return duration_ms

    def global_favorites(
        self, *, topic: str | None, limit: int
    ) -> tuple[dict[str, list[dict]], datetime | None]:
        """The most common favourites across users, per topic, and when the view was refreshed."""
        query = text(
            "SELECT topic, value, users FROM ("
            "  SELECT topic, value, users,"
            "         row_number() OVER (PARTITION BY topic ORDER BY users DESC, value_key) AS rank"
            "  FROM global_favorite_stats WHERE (CAST(:topic AS text) IS NULL OR topic = :topic)"
            ") ranked WHERE rank <= :limit ORDER BY topic, rank"
        )
        refreshed = text("SELECT refreshed_at FROM l3_view_refresh WHERE name = 'global_favorite_stats'")
        with self._unavailable_as_platform_error(), self.engine.connect() as conn:
            rows = conn.execute(query, {"topic": topic, "limit": limit}).all()
            refreshed_at = conn.execute(refreshed).scalar_one_or_none()
        topics: dict[str, list[dict]] = {}
        for row in rows:
            topics.setdefault(row.topic, []).append({"value": row.value, "users": row.users})
        return topics, refreshed_at

    def delete_user(self, user_id: str) -> None:
        """Remove every L3 row of the user."""
        with self._unavailable_as_platform_error(), self.engine.begin() as conn:
            for model in (UserMemoryFact, UserFavoriteSummary, UserCacheState, UserDirtyMark, KnownUser):
                conn.execute(delete(model).where(model.user_id == user_id))

    def ping(self) -> None:
        """Raise ``CacheUnavailable`` unless L3's database answers."""
        with self._unavailable_as_platform_error(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
