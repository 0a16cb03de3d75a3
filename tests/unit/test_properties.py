"""Property-based tests (Hypothesis) of the pure code that guards extraction, identifiers and cache keys.

No servers: these run with or without ``tests/conftest.py``
(``pytest --noconftest tests/unit/test_properties.py``). Every property is derandomized, so CI sees the
same examples on every run.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
import unicodedata
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from memcache_platform.api.validation import MAX_METADATA_KEYS, RESERVED_METADATA_KEYS, MemoryCreate
from memcache_platform.errors import InvalidInput
from memcache_platform.extractors import CATEGORIES, Fact, RulesExtractor
from memcache_platform.ids import validate_memory_id, validate_session_id, validate_user_id
from memcache_platform.tiers.l1_embeddings import EmbeddingCache, model_slug, normalize_query
from memcache_platform.tiers.l2_results import query_hash
from memcache_platform.tiers.redis_client import user_key

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ID_ALPHABET = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")  # used with fullmatch: no "$ before a newline" slip
HEX64 = re.compile(r"[0-9a-f]{64}")
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REDIS_GLOB = set("*?[]\\")

# --- strategies ---------------------------------------------------------------------------------------

# Words the extractor's patterns look for, so that generated text also reaches the rules, not only "other".
_WORDS = [
    "I", "I'm", "I\u2019m", "im", "my", "My", "favourite", "favorite", "is", "are", "and", "but", ",", ".",
    "?", "!", ";", "love", "hate", "like", "don't", "good", "at", "Python", "from", "live", "in", "know",
    "a", "an", "the", "fan", "of", "not", "work", "as", "for", "called", "name", "34", "years", "old",
    "rock and roll", "because", "too", "lol", "\u2026", "\n", "\u202e", "\u200b", "\U0001f600", "-", "\u2022",
]  # fmt: skip
_sentences = st.lists(st.sampled_from(_WORDS) | st.text(max_size=6), max_size=60).map(" ".join)
# st.text() never draws lone surrogates; the extractor promises to drop them, so they get their own strategy.
texts = st.text(max_size=4000) | _sentences
texts_with_surrogates = st.lists(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.sampled_from(_WORDS) | st.text(max_size=4),
    max_size=40,
).map("".join)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "tool", "USER"]) | json_values},
        optional={"content": st.text(max_size=50) | json_values, "name": json_values},
    )
    | json_values,
    max_size=3,
)
_metadata = st.dictionaries(
    st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.-]{0,8}\Z")
    | st.sampled_from(sorted(RESERVED_METADATA_KEYS))
    | st.text(),
    json_scalars | json_values,
    max_size=MAX_METADATA_KEYS + 2,
)
# Bodies of POST /v1/users/{user_id}/memories: valid ones, valid ones with one field replaced by anything
# (a near miss reaches the deeper validators), and noise.
_valid_bodies = st.fixed_dictionaries(
    {
        "messages": st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "assistant", "system"]), "content": st.text(min_size=1)}
            ),
            min_size=1,
            max_size=3,
        )
    },
    optional={
        "metadata": st.none()
        | st.dictionaries(
            st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.-]{0,8}\Z"),
            st.one_of(st.text(max_size=20), st.booleans(), st.integers(), st.floats()),
            max_size=5,
        ),
        "session_id": st.none() | st.from_regex(r"\A[A-Za-z0-9_.:@-]{1,10}\Z"),
    },
)
_near_misses = st.builds(
    lambda body, key, value: body | {key: value},
    _valid_bodies,
    st.sampled_from(["messages", "metadata", "session_id", "extra"]),
    _messages | _metadata | json_values,
)
memory_create_bodies = st.one_of(
    _valid_bodies,
    _near_misses,
    st.dictionaries(st.text(max_size=10), json_values, max_size=4),
)
messages_lists = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "user", "assistant", "system", " User "]), "content": texts}
    ),
    max_size=4,
) | st.lists(json_values, max_size=3)


def _check_fact(fact: Fact, *, non_empty: bool) -> None:
    assert isinstance(fact, Fact)
    assert fact.category in CATEGORIES
    if non_empty:
        assert fact.text and fact.text.strip() == fact.text
    assert all(isinstance(value, str) for value in fact.metadata().values())
    assert fact.metadata()["category"] == fact.category


# --- the rules extractor ------------------------------------------------------------------------------


@PROPERTY
@given(messages=messages_lists)
def test_extract_never_raises_and_returns_valid_facts(messages: list[Any]) -> None:
    facts = RulesExtractor().extract(messages)
    assert isinstance(facts, list)
    for fact in facts:
        _check_fact(fact, non_empty=True)
    # Deterministic: the same input gives the same facts, from this extractor or a fresh one.
    assert RulesExtractor().extract(messages) == facts


@PROPERTY
@given(text=texts)
def test_classify_never_raises_and_is_deterministic(text: str) -> None:
    fact = RulesExtractor().classify(text)
    _check_fact(fact, non_empty=False)
    assert fact.text.strip() == fact.text
    assert RulesExtractor().classify(text) == fact


@PROPERTY
@given(text=texts)
def test_only_user_messages_give_facts(text: str) -> None:
    extractor = RulesExtractor()
    assert (
        extractor.extract([{"role": "assistant", "content": text}, {"role": "system", "content": text}]) == []
    )
    assert extractor.extract([{"role": "user", "content": text}]) == extractor.extract(
        [{"role": "assistant", "content": text}, {"role": "user", "content": text}]
    )


@PROPERTY
@given(text=texts_with_surrogates)
@example("I love pho\ud800")
def test_fact_text_is_always_valid_utf8(text: str) -> None:
    """Lone surrogates are dropped, so every fact can be stored and sent as UTF-8."""
    extractor = RulesExtractor()
    for fact in [*extractor.extract([{"role": "user", "content": text}]), extractor.classify(text)]:
        for value in (fact.text, *fact.metadata().values()):
            value.encode("utf-8")


@PROPERTY
@given(text=texts)
@example("I love pho\x10")
@example("I love \x1b[31mpho")
def test_fact_text_has_no_control_characters(text: str) -> None:
    extractor = RulesExtractor()
    for fact in [*extractor.extract([{"role": "user", "content": text}]), extractor.classify(text)]:
        for value in (fact.text, *fact.metadata().values()):
            assert not [c for c in value if unicodedata.category(c) == "Cc"], (text, fact)


# --- identifiers and the Redis keys built from them ----------------------------------------------------


@PROPERTY
@given(candidate=st.text(max_size=200) | st.from_regex(ID_ALPHABET, fullmatch=True))
@example("alice\n")
@example("a b")
@example("{alice}")
@example("a*")
@example("x" * 129)
@example("")
def test_validated_user_ids_make_safe_keys(candidate: str) -> None:
    try:
        user_id = validate_user_id(candidate)
    except InvalidInput as exc:
        assert exc.status == 400 and exc.code == "invalid_user_id"
        assert not ID_ALPHABET.fullmatch(candidate)
        return
    assert user_id == candidate and ID_ALPHABET.fullmatch(user_id)
    assert validate_session_id(candidate) == candidate  # same alphabet
    key = user_key(user_id, "gen")
    assert key == f"mc:{{{user_id}}}:gen"
    assert not any(c.isspace() for c in key)
    assert key.count("{") == 1 and key.count("}") == 1  # the hash tag is exactly the user id
    assert not REDIS_GLOB & set(key)
    # The erasure's SCAN pattern (mc:{<id>}:*) matches this user's keys, and no other valid user's.
    assert fnmatch.fnmatchcase(key, user_key(user_id, "*"))


@PROPERTY
@given(a=st.from_regex(ID_ALPHABET, fullmatch=True), b=st.from_regex(ID_ALPHABET, fullmatch=True))
def test_a_users_scan_pattern_never_matches_another_users_keys(a: str, b: str) -> None:
    matched = fnmatch.fnmatchcase(user_key(b, "g1:q:abc"), user_key(validate_user_id(a), "*"))
    assert matched == (a == b)


@PROPERTY
@given(value=json_values | st.binary(max_size=20))
def test_non_string_ids_are_refused(value: Any) -> None:
    if isinstance(value, str):
        return
    with pytest.raises(InvalidInput):
        validate_user_id(value)
    with pytest.raises(InvalidInput):
        validate_session_id(value)
    with pytest.raises(InvalidInput):
        validate_memory_id(value)


@PROPERTY
@given(candidate=st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()) | st.text(max_size=60))
@example("not-a-uuid")
@example("")
def test_memory_ids_are_uuids(candidate: str) -> None:
    try:
        memory_id = validate_memory_id(candidate)
    except InvalidInput as exc:
        assert exc.code == "invalid_memory_id"
        with pytest.raises(ValueError):
            uuid.UUID(candidate)
        return
    # Whatever spelling uuid.UUID accepted, what reaches the store is the canonical form.
    assert CANONICAL_UUID.fullmatch(memory_id)
    assert memory_id == str(uuid.UUID(candidate))


# --- cache keys of queries ----------------------------------------------------------------------------


@PROPERTY
@given(
    query=st.text(max_size=600),
    limit=st.integers(min_value=-(2**63), max_value=2**63),
    session_id=st.none() | st.text(max_size=40),
)
def test_query_hash_is_64_hex_for_any_query(query: str, limit: int, session_id: str | None) -> None:
    qhash = query_hash(query, limit, session_id)
    assert HEX64.fullmatch(qhash)
    assert query_hash(query, limit, session_id) == qhash
    assert query_hash(normalize_query(query), limit, session_id) == qhash  # the key is of the normal form
    assert query_hash(f"  {query}\t", limit, session_id) == qhash


@PROPERTY
@given(text=st.text(max_size=600))
@example("  Hello\u00a0 WORLD\n")
@example("\ufb01 \u2460 \u01f0")
def test_normalize_query_is_idempotent(text: str) -> None:
    once = normalize_query(text)
    assert normalize_query(once) == once
    assert once.strip() == once and "  " not in once


@PROPERTY
@given(model=st.text(max_size=100), text=st.text(max_size=600))
@example("sentence-transformers/all-MiniLM-L6-v2", "pho")
@example("C:\\models\\my model\\", "x")
@example("", "")
def test_embedding_keys_have_no_whitespace(model: str, text: str) -> None:
    slug = model_slug(model)
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", slug)
    cache = EmbeddingCache(None, model)  # type: ignore[arg-type] - key() never touches the client
    key = cache.key(text)
    assert re.fullmatch(rf"mc:emb:{re.escape(slug)}:[0-9a-f]{{64}}", key)
    assert not any(c.isspace() for c in key)
    assert cache.key(normalize_query(text)) == key


# --- the request model of POST /v1/users/{user_id}/memories -------------------------------------------


@PROPERTY
@given(body=memory_create_bodies)
@example({"messages": [{"role": "user", "content": "I love pho"}]})
@example({"messages": [{"role": "user", "content": "hi"}], "metadata": {"id": "x"}})
@example({"messages": [{"role": "user", "content": "hi"}], "session_id": "s\n"})
def test_memory_create_validates_or_raises_validation_error(body: dict[str, Any]) -> None:
    try:
        model = MemoryCreate.model_validate(body)
    except ValidationError:
        return
    assert model.messages and all(
        m.role in ("user", "assistant", "system") and m.content for m in model.messages
    )
    if model.session_id is not None:
        assert ID_ALPHABET.fullmatch(model.session_id)
    for key, value in (model.metadata or {}).items():
        assert key not in RESERVED_METADATA_KEYS and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,63}", key)
        assert isinstance(value, str | bool | int | float)
    assert len(model.metadata or {}) <= MAX_METADATA_KEYS


def _storable(value: Any) -> bool:
    """What PostgreSQL's json type (Mem0's metadata column) accepts: no NUL, no lone surrogate, finite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    return True


@PROPERTY
@given(body=memory_create_bodies)
@example({"messages": [{"role": "user", "content": "hi"}], "metadata": {"note": float("nan")}})
@example({"messages": [{"role": "user", "content": "hi"}], "metadata": {"note": "a\x00b"}})
def test_validated_metadata_is_storable(body: dict[str, Any]) -> None:
    try:
        model = MemoryCreate.model_validate(body)
    except ValidationError:
        return
    for value in (model.metadata or {}).values():
        assert _storable(value), value
    json.dumps(model.metadata, allow_nan=False)
