"""The local backend's bulk add against real Mem0: what one ``Memory.add(infer=False)`` per memory stores."""

import sqlite3

import numpy as np
import pytest
from psycopg import sql

from memcache_platform.clients.mem0 import AddsInterrupted, NewMemory
from memcache_platform.errors import MemoryStoreError

pytestmark = pytest.mark.integration
MEMORIES = [
    NewMemory("Favourite food is pho", {"category": "favorite", "topic": "food", "value": "pho"}),
    NewMemory("Good at Python", {"category": "skill", "value": "Python"}),
    NewMemory("Lives in Lisbon", {"category": "profile", "topic": "location", "value": "Lisbon"}),
]


def _rows(platform, user_id: str) -> dict[str, tuple[str, dict, np.ndarray]]:  # type: ignore[no-untyped-def]
    """Mem0's table, read straight: text -> (id, payload, vector) of each of the user's memories."""
    backend = platform.mem0.backend
    query = sql.SQL("SELECT id::text, payload, vector::text FROM {} WHERE payload->>'user_id' = %s").format(
        sql.Identifier(backend.collection)
    )
    with backend.pool.connection() as conn:
        found = conn.execute(query, (user_id,)).fetchall()
    return {
        p["data"]: (mid, p, np.array([float(x) for x in v.strip("[]").split(",")])) for mid, p, v in found
    }


def test_bulk_add_stores_what_one_add_per_memory_stores(platform, user_id):
    single = f"{user_id}-single"
    for m in MEMORIES:
        platform.mem0.add(m.text, user_id=single, metadata=m.metadata, run_id="s1")

    records = platform.mem0.add_many(MEMORIES, user_id=user_id, run_id="s1")

    bulk, alone = _rows(platform, user_id), _rows(platform, single)
    assert [r.memory for r in records] == [m.text for m in MEMORIES]
    assert [r.id for r in records] == [bulk[m.text][0] for m in MEMORIES]  # the ids it answered
    assert [r.category for r in records] == ["favorite", "skill", "profile"]
    for text, (memory_id, payload, vector) in bulk.items():
        _, payload_alone, vector_alone = alone[text]
        assert payload.keys() == payload_alone.keys(), text
        moments = ("user_id", "created_at", "updated_at")  # differ between the two users by design
        assert {k: v for k, v in payload.items() if k not in moments} == {
            k: v for k, v in payload_alone.items() if k not in moments
        }
        assert payload["user_id"] == user_id and payload["run_id"] == "s1"
        assert payload["updated_at"] == payload["created_at"]
        assert np.allclose(vector, vector_alone, atol=1e-5), text  # the same embedding as its own add
        history = platform.mem0.history(memory_id)
        (alone_history,) = platform.mem0.history(alone[text][0])
        assert [(h["event"], h["old_memory"], h["new_memory"], h["role"]) for h in history] == [
            (alone_history["event"], None, text, alone_history["role"])
        ]
        assert history[0]["created_at"] == payload["created_at"]
    # get_all keeps the order the memories were given in, as it does for adds one after the other.
    assert [r.memory for r in platform.mem0.get_all(user_id=user_id)] == [m.text for m in MEMORIES]
    for m, record in zip(MEMORIES, records, strict=True):
        (top,) = platform.mem0.search(m.text, user_id=user_id, limit=1)
        assert top.id == record.id


def test_one_bad_memory_fails_the_whole_bulk_and_stores_none_of_it(platform, user_id):
    # A real refusal: PostgreSQL's jsonb cannot hold NUL (the API refuses it before, the backend must not
    # half-store). The bulk is one transaction: nothing of it is stored, no history row is written.
    texts = [f"Knows {user_id}", f"Good at Py\x00thon {user_id}", f"Lives near {user_id}"]  # only here
    bad = [NewMemory(text, {"category": "other"}) for text in texts]
    with pytest.raises(MemoryStoreError):
        platform.mem0.add_many(bad, user_id=user_id)
    assert platform.mem0.get_all(user_id=user_id) == []
    db = platform.mem0.backend.memory.db
    marks = ",".join("?" * len(texts))
    with db._lock:
        count = db.connection.execute(f"SELECT count(*) FROM history WHERE new_memory IN ({marks})", texts)
        assert count.fetchone() == (0,)


def test_history_failing_after_the_insert_reports_the_stored_memories(platform, user_id, monkeypatch):
    # Fault injection: SQLite failing between the two stores cannot be timed for real. Patched on the
    # session's Mem0 for this test only: the session worker reads L4, it never adds.
    def locked(records):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(platform.mem0.backend.memory.db, "batch_add_history", locked)
    with pytest.raises(AddsInterrupted) as caught:
        platform.mem0.add_many(MEMORIES, user_id=user_id)
    stored = caught.value.stored
    assert [r.memory for r in stored] == [m.text for m in MEMORIES]
    assert sorted(r.id for r in platform.mem0.get_all(user_id=user_id)) == sorted(r.id for r in stored)
