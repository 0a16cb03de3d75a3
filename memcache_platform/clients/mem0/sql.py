"""Read-only SQL on Mem0's pgvector table: user ids and per-user stats the open-source Memory lacks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any


def _query_local(pool_or_url: Any, collection: str, statement: Any) -> list[tuple[Any, ...]]:
    """Run a read-only statement on Mem0's pgvector table, through the backend's pool or a URL.

    A URL serves callers that do not need Mem0 itself (the CLI, a web process planning a sweep).
    """
    import psycopg

    if not isinstance(pool_or_url, str):
        with pool_or_url.connection() as conn:
            return list(conn.execute(statement))
    with psycopg.connect(pool_or_url, connect_timeout=5) as conn:
        if conn.execute("SELECT to_regclass(%s)", (collection,)).fetchone()[0] is None:
            return []  # Mem0 creates its table on first use
        return list(conn.execute(statement))


def list_local_user_ids(pool_or_url: Any, collection: str) -> list[str]:
    """Distinct user ids in Mem0's pgvector table (the open-source Memory has no call for it)."""
    from psycopg import sql

    statement = sql.SQL("SELECT DISTINCT payload->>'user_id' FROM {} WHERE payload ? 'user_id'").format(
        sql.Identifier(collection)
    )
    return [row[0] for row in _query_local(pool_or_url, collection, statement)]


def local_user_stats(pool_or_url: Any, collection: str) -> dict[str, tuple[int, datetime | None]]:
    """Per user: how many memories L4 holds and when the newest changed, in one aggregate query.

    Lets the sweep find users whose L4 changed without a watermark bump (a lost hand-off).
    """
    from psycopg import sql

    statement = sql.SQL(
        "SELECT payload->>'user_id', count(*), "
        "max(coalesce(payload->>'updated_at', payload->>'created_at')::timestamptz) "
        "FROM {} WHERE payload ? 'user_id' GROUP BY 1"
    ).format(sql.Identifier(collection))
    return {row[0]: (int(row[1]), row[2]) for row in _query_local(pool_or_url, collection, statement)}


def iter_local_user_stats(
    url: str, collection: str, *, page_size: int = 5000
) -> Iterator[list[tuple[str, int, datetime | None]]]:
    """``local_user_stats`` as pages of (user id, count, newest change), through a server-side cursor.

    Memory stays at one page however many users L4 holds; the aggregate still reads the whole
    table, which is why the sweep runs it only once per reconcile interval.
    """
    import psycopg
    from psycopg import sql

    statement = sql.SQL(
        "SELECT payload->>'user_id', count(*), "
        "max(coalesce(payload->>'updated_at', payload->>'created_at')::timestamptz) "
        "FROM {} WHERE payload ? 'user_id' GROUP BY 1"
    ).format(sql.Identifier(collection))
    with psycopg.connect(url, connect_timeout=5) as conn:
        if conn.execute("SELECT to_regclass(%s)", (collection,)).fetchone()[0] is None:
            return  # Mem0 creates its table on first use
        with conn.cursor(name="l4_user_stats") as cursor:
            cursor.execute(statement)
            while rows := cursor.fetchmany(page_size):
                yield [(row[0], int(row[1]), row[2]) for row in rows]
