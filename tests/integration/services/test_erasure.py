"""``ErasureService``: an erased user stays erased, even beside rebuilds running or queued for it."""

import threading
import time

import pytest
from sqlalchemy import text

from memcache_platform.tiers.hot_queries import QuerySpec

pytestmark = pytest.mark.integration


def _redis_keys(platform, user_id: str) -> list[bytes]:
    return list(platform.redis.scan_iter(match=f"mc:{{{user_id}}}:*"))


def test_erasure_waits_for_the_rebuild_that_holds_the_user(platform, user_id, write):
    write(user_id, "My favourite tea is sencha")
    # Stand in for a rebuild that read L4 before the erasure and has not written yet: it holds the lock.
    token = platform.coordinator.lock(user_id)
    assert token
    erased = threading.Thread(target=platform.erasure.erase, args=(user_id,))
    erased.start()
    time.sleep(0.5)
    assert erased.is_alive()  # waiting: erasing now would let that rebuild write the user back
    assert platform.mem0.get_all(user_id=user_id) != []
    platform.coordinator.unlock(user_id, token)
    erased.join(timeout=30)
    assert not erased.is_alive()
    assert platform.mem0.get_all(user_id=user_id) == []
    assert _redis_keys(platform, user_id) == []  # its own lock released too


def test_a_rebuild_queued_before_the_erasure_brings_nothing_back(platform, user_id, write):
    write(user_id, "My favourite tea is gyokuro")
    platform.proactive_cache.rebuild_now(user_id)
    platform.hot_queries.record(user_id, QuerySpec("tea", 5, None))
    platform.erasure.erase(user_id)
    result = platform.proactive_cache.update_user_favorite_cache(user_id, force=True)  # runs after
    assert result.memories == 0 and result.l3_written is False
    assert platform.l3.get(user_id) is None
    with platform.l3.engine.connect() as conn:  # not a user the sweep would plan again
        assert (
            conn.execute(text("SELECT 1 FROM known_users WHERE user_id = :u"), {"u": user_id}).first() is None
        )
    # No L2 generation published for it; only the watermark the rebuild read (a time, no data) is left.
    assert {k.rsplit(b":", 1)[1] for k in _redis_keys(platform, user_id)} <= {b"wm"}
