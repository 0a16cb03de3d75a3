"""L1 tier: normalized query text -> embedding vector in Redis, so a repeated search skips the model."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy
import redis

from memcache_platform.errors import CacheUnavailable
from memcache_platform.metrics import CACHE_LOOKUPS
from memcache_platform.tiers.redis_client import redis_errors

log = logging.getLogger(__name__)
_WHITESPACE = re.compile(r"\s+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_DTYPE = "<f4"  # fixed byte order, so the bytes mean the same on every host that reads them


def normalize_query(text: str) -> str:
    """The form of a query that decides its cache key: NFKC, single spaces, stripped, casefolded."""
    # Casefolding is valid because all-MiniLM-L6-v2's tokenizer lowercases anyway: texts that differ
    # only by case get the same embedding, so they may share one cache entry.
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def model_slug(model: str) -> str:
    """A short key-safe name of the model: the last path component, safe characters only, <= 64 chars."""
    last = model.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("", last)[:64] or "model"


class EmbeddingCache:
    """Embeddings of query texts in Redis, as packed little-endian float32, with a sliding TTL."""

    def __init__(
        self, client: redis.Redis, model: str, *, ttl_s: int = 7 * 24 * 3600, dims: int | None = None
    ) -> None:
        self.client = client
        self.model = model
        self.ttl_s = ttl_s
        self.dims = dims
        # The model is part of the key: vectors of two models never mix, even in one Redis.
        self._prefix = f"mc:emb:{model_slug(model)}:"

    def key(self, text: str) -> str:
        """The Redis key of the text's embedding."""
        return self._prefix + hashlib.sha256(normalize_query(text).encode("utf-8")).hexdigest()

    def _decode(self, raw: bytes | None) -> numpy.ndarray | None:
        """The stored vector, or None when absent or not a vector of the expected size."""
        if raw is None or len(raw) % 4:
            return None
        vector = numpy.frombuffer(raw, dtype=_DTYPE)
        # A wrong size means another model or a corrupt entry; recomputing beats a wrong search.
        if self.dims is not None and vector.shape[0] != self.dims:
            return None
        return vector

    def get_many(self, texts: Sequence[str]) -> list[numpy.ndarray | None]:
        """The embeddings of the texts, in order (None for a miss), in one round trip."""
        if not texts:
            return []
        pipe = self.client.pipeline(transaction=False)
        for text in texts:
            pipe.getex(self.key(text), ex=self.ttl_s)  # GETEX: a hit keeps a popular query cached
        with redis_errors("L1 embeddings unreadable"):
            raws = pipe.execute()
        vectors = [self._decode(raw) for raw in raws]
        hits = sum(v is not None for v in vectors)
        if hits:
            CACHE_LOOKUPS.labels("L1", "hit").inc(hits)
        if len(vectors) - hits:
            CACHE_LOOKUPS.labels("L1", "miss").inc(len(vectors) - hits)
        return vectors

    def set_many(self, items: Mapping[str, Sequence[float]]) -> None:
        """Store the embeddings of the texts, in one round trip."""
        if not items:
            return
        pipe = self.client.pipeline(transaction=False)
        for text, vector in items.items():
            # Packed float32 is 4 bytes a dimension: about a third of JSON, and no parsing on a hit.
            pipe.set(self.key(text), numpy.asarray(vector, dtype=_DTYPE).tobytes(), ex=self.ttl_s)
        with redis_errors("L1 embeddings not stored"):
            pipe.execute()

    def get(self, text: str) -> numpy.ndarray | None:
        """The embedding of one text, or None."""
        return self.get_many([text])[0]

    def set(self, text: str, vector: Sequence[float]) -> None:
        """Store the embedding of one text."""
        self.set_many({text: vector})

    def count_cached(self, texts: Sequence[str]) -> int:
        """How many of the texts have an embedding cached (EXISTS does not slide their TTL)."""
        if not texts:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for text in texts:
            pipe.exists(self.key(text))
        with redis_errors("L1 embeddings uncountable"):
            return sum(int(n) for n in pipe.execute())


class CachedEmbedder:
    """A Mem0 embedder whose search-query embeddings go through L1, and memory texts through a batch memo."""

    def __init__(self, inner: Any, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self.model_calls = 0
        self._lock = threading.Lock()
        # Memory texts embedded ahead by ``batch``: text -> (vector, how many open batches hold it).
        self._memo: dict[str, tuple[list[float], int]] = {}

    def __getattr__(self, name: str) -> Any:
        """Anything else (``config``, ...) is the inner embedder's, so Mem0 sees no difference."""
        inner = self.__dict__.get("inner")  # not self.inner: avoids recursion before __init__ ran
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    def _compute(self, text: str, memory_action: str | None) -> list[float]:
        """Call the model, counting the call."""
        with self._lock:
            self.model_calls += 1
        return [float(x) for x in self.inner.embed(text, memory_action)]

    @contextlib.contextmanager
    def batch(self, texts: Sequence[str]) -> Iterator[None]:
        """Embed ``texts`` in one model call; inside, Mem0's per-memory ``embed(text, "add")`` finds them.

        An in-process memo, not L1: memory texts are one-off (L1 holds repeated queries, for days),
        the write path must not wait on Redis nor fail with it, and the vectors live only as long
        as the request's writes. Concurrent requests share entries (same text, same vector).
        """
        wanted = list(dict.fromkeys(texts))
        with self._lock:
            missing = [t for t in wanted if t not in self._memo]
        try:
            vectors = self._compute_batch(missing) if missing else []
        except Exception:  # noqa: BLE001 - the writes embed one by one instead, and fail there if they must
            log.warning("batch embedding failed; the memories embed one by one", exc_info=True)
            vectors, missing = [], []
        computed = dict(zip(missing, vectors, strict=True))
        with self._lock:
            for text in wanted:
                vector, holders = self._memo.get(text) or (computed.get(text), 0)
                if vector is not None:
                    self._memo[text] = (vector, holders + 1)
            held = [t for t in wanted if t in self._memo]
        try:
            yield
        finally:
            with self._lock:
                for text in held:
                    vector, holders = self._memo[text]
                    if holders > 1:
                        self._memo[text] = (vector, holders - 1)
                    else:
                        del self._memo[text]

    def _compute_batch(self, texts: list[str]) -> list[list[float]]:
        """One model call for all the texts, counted as one."""
        with self._lock:
            self.model_calls += 1
        return [[float(x) for x in vector] for vector in self.inner.embed_batch(texts, "add")]

    def embed(self, text: str, memory_action: str | None = None) -> list[float]:
        """The text's embedding; for a search, from L1 when cached; for a memory, from an open batch."""
        # Only search queries repeat; memories being added or updated are one-off texts, not queries.
        if memory_action != "search":
            memo = self._memo.get(text)
            return list(memo[0]) if memo is not None else self._compute(text, memory_action)
        try:
            cached = self.cache.get(text)
        except CacheUnavailable:
            return self._compute(text, memory_action)  # a read never fails because L1 is down
        if cached is not None:
            return cached.tolist()
        vector = self._compute(text, memory_action)
        # The answer is already computed: if Redis went away meanwhile, the next search recomputes.
        with contextlib.suppress(CacheUnavailable):
            self.cache.set(text, vector)
        return vector

    def embed_batch(self, texts: list[str], memory_action: str = "add") -> list[list[float]]:
        """Batches are memories being added: straight to the model."""
        return self.inner.embed_batch(texts, memory_action)
