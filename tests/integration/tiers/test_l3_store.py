"""L3 store against the real PostgreSQL: replace per user in one transaction, newest build wins."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.summary import FavoriteSummary
from memcache_platform.tiers.l3_store import FactRow, L3Build, L3Store

pytestmark = pytest.mark.integration


def _build(user_id: str, values: list[str], watermark: int | None, memory_id_prefix: str = "m") -> L3Build:
    facts = [
        FactRow(f"{memory_id_prefix}{i}", f"Likes {v}", "favorite", "general", v, None)
        for i, v in enumerate(values)
    ]
    summary = FavoriteSummary(
        favorites={"general": values}, counts={"favorite": len(values)}, memory_count=len(values)
    )
    return L3Build(user_id, facts, summary, datetime.now(UTC), watermark, "fp", 1.0)


@pytest.fixture
def store(platform) -> L3Store:
    return platform.l3


def test_replace_twice_leaves_the_same_rows(store, user_id):
    assert store.replace_user(_build(user_id, ["tea", "pho"], 5))
    assert store.replace_user(_build(user_id, ["tea", "pho"], 5))
    assert [f.value for f in store.facts(user_id)] == ["tea", "pho"]
    entry = store.get(user_id)
    assert entry.summary.favorites == {"general": ["tea", "pho"]}
    assert entry.built_from_watermark == 5


def test_replace_removes_rows_no_longer_in_l4(store, user_id):
    store.replace_user(_build(user_id, ["tea", "pho", "rice"], 1))
    store.replace_user(_build(user_id, ["tea"], 2))
    assert [f.value for f in store.facts(user_id)] == ["tea"]


def test_older_build_does_not_overwrite_newer(store, user_id):
    assert store.replace_user(_build(user_id, ["new"], 10))
    assert store.replace_user(_build(user_id, ["old"], 9)) is False
    assert [f.value for f in store.facts(user_id)] == ["new"]
    assert store.get(user_id).built_from_watermark == 10


def test_failed_rebuild_leaves_previous_rows_whole(store, user_id):
    store.replace_user(_build(user_id, ["tea", "pho"], 1))
    # A memory id longer than the column allows makes PostgreSQL fail the insert half way: a real fault.
    broken = _build(user_id, ["x", "y"], 2, memory_id_prefix="z" * 80)
    with pytest.raises(Exception):  # noqa: B017 - the driver's DataError; what matters is what follows
        store.replace_user(broken)
    assert [f.value for f in store.facts(user_id)] == ["tea", "pho"]
    assert store.get(user_id).built_from_watermark == 1


def test_users_do_not_touch_each_other(store, user_id):
    other = user_id + "-other"
    store.replace_user(_build(user_id, ["tea"], 1))
    store.replace_user(_build(other, ["coffee"], 1))
    store.delete_user(other)
    assert store.get(other) is None
    assert [f.value for f in store.facts(user_id)] == ["tea"]


def test_unreachable_database_is_cache_unavailable():
    from memcache_platform.dev.servers import free_port

    store = L3Store.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    with pytest.raises(CacheUnavailable):
        store.get("alice")


def test_an_empty_build_of_a_user_l3_does_not_know_stores_nothing(store, user_id):
    # What a rebuild queued before an erasure writes after it: storing it would bring the user back.
    assert store.replace_user(_build(user_id, [], 3)) is False
    assert store.get(user_id) is None
    assert not _known(store, user_id)


def _known(store: L3Store, user_id: str) -> bool:
    with store.engine.connect() as conn:
        query = text("SELECT 1 FROM known_users WHERE user_id = :u")
        return conn.execute(query, {"u": user_id}).first() is not None


def test_an_empty_build_of_a_known_user_empties_its_row(store, user_id):
    store.replace_user(_build(user_id, ["tea"], 1))
    assert store.replace_user(_build(user_id, [], 2))
    assert store.facts(user_id) == [] and store.get(user_id).built_from_watermark == 2
    assert _known(store, user_id)
