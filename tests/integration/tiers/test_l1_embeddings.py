"""L1 embeddings in the real Redis."""

from __future__ import annotations

import hashlib
import uuid

import numpy
import pytest
from prometheus_client import REGISTRY

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.l1_embeddings import (
    CachedEmbedder,
    EmbeddingCache,
    model_slug,
    normalize_query,
)
from memcache_platform.tiers.redis_client import cache_redis

pytestmark = pytest.mark.integration

DIMS = 8
MODEL = "/models/sentence-transformers/all-MiniLM-L6-v2"


class FakeEmbedder:
    """A tiny deterministic embedder that counts its calls.

    Redis is real here; the real model (all-MiniLM-L6-v2) is exercised by the Mem0 integration tests.
    """

    class config:  # noqa: N801 - mirrors Mem0's ``embedder.config.model``
        model = MODEL

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def embed(self, text: str, memory_action: str | None = None) -> list[float]:
        self.calls.append((text, memory_action))
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        return numpy.random.default_rng(seed).standard_normal(DIMS).astype("<f4").tolist()

    def embed_batch(self, texts: list[str], memory_action: str = "add") -> list[list[float]]:
        return [self.embed(t, memory_action) for t in texts]


@pytest.fixture
def client(redis_server):
    c = cache_redis(redis_server.url, timeout_s=0.5)
    yield c
    c.close()


@pytest.fixture
def cache(client) -> EmbeddingCache:
    return EmbeddingCache(client, MODEL, ttl_s=100, dims=DIMS)


def unique(label: str = "query") -> str:
    return f"{label} {uuid.uuid4().hex}"


def down_cache() -> EmbeddingCache:
    return EmbeddingCache(cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2), MODEL, dims=DIMS)


def test_round_trip_is_exact_float32(cache):
    text = unique()
    vector = [0.1, -2.5, 3.14159265, 1e-7, 0.0, -0.0, 123456.789, 1 / 3]
    cache.set(text, vector)
    got = cache.get(text)
    assert got is not None
    assert got.dtype == numpy.dtype("<f4")
    numpy.testing.assert_array_equal(got, numpy.asarray(vector, dtype="<f4"))


def test_key_is_model_slug_and_sha256_of_normalized_text(cache):
    text = "  Hello\t  Wörld\n"
    digest = hashlib.sha256("hello wörld".encode()).hexdigest()
    assert cache.key(text) == f"mc:emb:all-MiniLM-L6-v2:{digest}"


def test_model_slug_keeps_only_safe_characters():
    assert model_slug("/x/y/all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    assert model_slug("text-embedding-3-small") == "text-embedding-3-small"
    assert model_slug("org/we:ird name!/") == "weirdname"
    assert model_slug("C:\\models\\bge_small.v1.5") == "bge_small.v1.5"
    assert model_slug("///") == "model"
    assert model_slug("a" * 100) == "a" * 64


def test_normalization_makes_spacing_case_and_width_equivalent(cache):
    assert normalize_query("  Hello   WORLD ") == "hello world"
    assert normalize_query("ＨＥＬＬＯ\u00a0world") == "hello world"  # NFKC: full-width, no-break space
    word = uuid.uuid4().hex
    cache.set(f"hello world {word}", [1.0] * DIMS)
    assert cache.key(f"  Hello   WORLD {word.upper()} ") == cache.key(f"hello world {word}")
    got = cache.get(f"  Hello   WORLD {word.upper()} ")
    assert got is not None and got.tolist() == [1.0] * DIMS


def lookups(result: str) -> float:
    return REGISTRY.get_sample_value("memcache_cache_lookups_total", {"tier": "L1", "result": result}) or 0.0


def test_get_many_returns_hits_and_misses_in_order(cache):
    texts = [unique(str(i)) for i in range(5)]
    cache.set_many({texts[1]: [1.0] * DIMS, texts[3]: [3.0] * DIMS})
    hits, misses = lookups("hit"), lookups("miss")
    got = cache.get_many(texts)
    assert (lookups("hit") - hits, lookups("miss") - misses) == (2, 3)
    assert [None if v is None else v.tolist() for v in got] == [
        None,
        [1.0] * DIMS,
        None,
        [3.0] * DIMS,
        None,
    ]
    assert cache.get_many([]) == []


def test_count_cached(cache):
    texts = [unique() for _ in range(4)]
    cache.set_many({texts[0]: [0.5] * DIMS, texts[2]: [0.5] * DIMS})
    assert cache.count_cached(texts) == 2
    assert cache.count_cached([]) == 0


def test_ttl_slides_on_a_hit(cache, client):
    text = unique()
    cache.set(text, [2.0] * DIMS)
    key = cache.key(text)
    assert 95 <= client.ttl(key) <= 100
    client.expire(key, 5)
    assert client.ttl(key) <= 5
    assert cache.get(text) is not None
    assert 95 <= client.ttl(key) <= 100


def test_stored_value_is_packed_float32_not_json(cache, client):
    text = unique()
    vector = [float(i) + 0.25 for i in range(DIMS)]
    cache.set(text, vector)
    raw = client.get(cache.key(text))
    assert isinstance(raw, bytes)
    assert len(raw) == 4 * DIMS
    assert raw == numpy.asarray(vector, dtype="<f4").tobytes()
    assert not raw.startswith(b"[")


def test_entry_of_wrong_dims_is_a_miss(cache, client):
    text = unique()
    client.set(cache.key(text), numpy.ones(DIMS + 1, dtype="<f4").tobytes())
    assert cache.get(text) is None
    client.set(cache.key(text), b"abc")  # not even whole float32s
    assert cache.get(text) is None
    # Without a declared size, the same stored vector is accepted as it is.
    client.set(cache.key(text), numpy.ones(DIMS + 1, dtype="<f4").tobytes())
    loose = EmbeddingCache(cache.client, MODEL, ttl_s=100)
    got = loose.get(text)
    assert got is not None and got.tolist() == [1.0] * (DIMS + 1)


def test_cached_embedder_skips_the_model_on_a_repeated_search(cache):
    inner = FakeEmbedder()
    embedder = CachedEmbedder(inner, cache)
    word = uuid.uuid4().hex
    first = embedder.embed(f"What does {word} like?", "search")
    assert embedder.model_calls == 1
    assert cache.count_cached([f"what does {word} like?"]) == 1
    second = embedder.embed(f"  what DOES {word.upper()}   like? ", "search")
    assert embedder.model_calls == 1
    assert len(inner.calls) == 1
    assert isinstance(second, list) and all(type(x) is float for x in second)
    assert second == first == inner.embed(f"What does {word} like?")


def test_cached_embedder_never_caches_added_memories(cache):
    inner = FakeEmbedder()
    embedder = CachedEmbedder(inner, cache)
    text = unique("memory")
    first = embedder.embed(text, "add")
    second = embedder.embed(text, "add")
    assert first == second
    assert embedder.model_calls == 2
    assert cache.count_cached([text]) == 0
    assert embedder.embed(text, None) == first
    assert embedder.model_calls == 3
    assert cache.count_cached([text]) == 0
    # Batches pass through too, without touching L1 or the embed counter.
    texts = [unique("batch") for _ in range(3)]
    assert embedder.embed_batch(texts) == [inner.embed(t, "add") for t in texts]
    assert cache.count_cached(texts) == 0
    assert embedder.model_calls == 3


def test_cached_embedder_passes_attributes_through(cache):
    inner = FakeEmbedder()
    embedder = CachedEmbedder(inner, cache)
    assert embedder.config.model == MODEL
    assert embedder.calls is inner.calls
    with pytest.raises(AttributeError):
        embedder.no_such_attribute  # noqa: B018


def test_redis_down_raises_cache_unavailable():
    cache = down_cache()
    with pytest.raises(CacheUnavailable):
        cache.get("hello")
    with pytest.raises(CacheUnavailable):
        cache.set("hello", [1.0] * DIMS)
    with pytest.raises(CacheUnavailable):
        cache.count_cached(["hello"])


def test_cached_embedder_still_answers_when_redis_is_down():
    inner = FakeEmbedder()
    embedder = CachedEmbedder(inner, down_cache())
    text = unique()
    assert embedder.embed(text, "search") == inner.embed(text)
    assert embedder.embed(text, "search") == inner.embed(text)
    assert embedder.model_calls == 2
