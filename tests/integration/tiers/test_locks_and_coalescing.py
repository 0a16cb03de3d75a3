"""Leases and rebuild coalescing in the real Redis."""

from __future__ import annotations

import threading
import time

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.coalescing import RebuildCoordinator
from memcache_platform.tiers.locks import Leases
from memcache_platform.tiers.redis_client import cache_redis, user_key

pytestmark = pytest.mark.integration


def _down_client():  # type: ignore[no-untyped-def]
    return cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)


@pytest.fixture
def leases(platform) -> Leases:
    return Leases(platform.redis)


@pytest.fixture
def lease_key(user_id) -> str:
    return user_key(user_id, "lease-test")


# --- Leases ------------------------------------------------------------------------------------


def test_lease_is_exclusive_until_released(platform, leases, lease_key):
    token = leases.acquire(lease_key, 10_000)
    assert isinstance(token, str) and token
    assert leases.acquire(lease_key, 10_000) is None
    assert platform.redis.get(lease_key) == token.encode()

    leases.release(lease_key, "not-the-token")
    assert leases.acquire(lease_key, 10_000) is None
    assert platform.redis.get(lease_key) == token.encode()

    leases.release(lease_key, token)
    assert platform.redis.exists(lease_key) == 0
    second = leases.acquire(lease_key, 10_000)
    assert second is not None and second != token
    leases.release(lease_key, second)


def test_an_owner_takes_over_only_its_own_lease(platform, leases, lease_key):
    """A task redelivered after its worker died (same task id) takes its lock over; nobody else does."""
    assert leases.acquire(lease_key, 10_000, owner="task-1") == "task-1"
    assert leases.acquire(lease_key, 10_000, owner="task-2") is None
    assert leases.acquire(lease_key, 10_000) is None
    platform.redis.pexpire(lease_key, 500)  # most of the dead run's lease has gone by
    assert leases.acquire(lease_key, 10_000, owner="task-1") == "task-1"
    assert platform.redis.pttl(lease_key) > 9_000  # taken over with a whole lease
    leases.release(lease_key, "task-1")
    assert leases.acquire(lease_key, 10_000, owner="task-2") == "task-2"
    leases.release(lease_key, "task-2")


def test_release_of_a_stale_token_does_not_free_the_new_owner(platform, leases, lease_key):
    first = leases.acquire(lease_key, 10_000)
    assert first is not None
    leases.release(lease_key, first)
    second = leases.acquire(lease_key, 10_000)
    assert second is not None
    leases.release(lease_key, first)  # the first owner releasing again, late
    assert platform.redis.get(lease_key) == second.encode()
    assert leases.acquire(lease_key, 10_000) is None
    leases.release(lease_key, second)


def test_lease_has_the_requested_ttl(platform, leases, lease_key):
    token = leases.acquire(lease_key, 5_000)
    assert token is not None
    assert 0 < platform.redis.pttl(lease_key) <= 5_000
    leases.release(lease_key, token)


def test_lease_expires_by_itself(leases, lease_key):
    token = leases.acquire(lease_key, 50)
    assert token is not None
    deadline = time.monotonic() + 5.0
    again = None
    while again is None and time.monotonic() < deadline:
        time.sleep(0.02)
        again = leases.acquire(lease_key, 10_000)
    assert again is not None and again != token
    leases.release(lease_key, again)


def test_leases_on_different_keys_are_independent(leases, lease_key):
    other_key = lease_key + "-other"
    a = leases.acquire(lease_key, 10_000)
    b = leases.acquire(other_key, 10_000)
    assert a is not None and b is not None
    leases.release(lease_key, a)
    leases.release(other_key, b)


def test_concurrent_acquire_has_exactly_one_winner(platform, lease_key):
    barrier = threading.Barrier(8)
    results: list[str | None] = []
    lock = threading.Lock()

    def contend() -> None:
        leases = Leases(platform.redis)
        barrier.wait()
        token = leases.acquire(lease_key, 10_000)
        with lock:
            results.append(token)

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 8
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert platform.redis.get(lease_key) == winners[0].encode()
    Leases(platform.redis).release(lease_key, winners[0])


def test_redis_down_acquire_raises_release_does_not(lease_key):
    leases = Leases(_down_client())
    with pytest.raises(CacheUnavailable):
        leases.acquire(lease_key, 1_000)
    assert leases.release(lease_key, "any-token") is None


# --- RebuildCoordinator ------------------------------------------------------------------------


def test_coordinator_keys_carry_the_user_hash_tag():
    assert RebuildCoordinator.pending_key("alice") == "mc:{alice}:pending"
    assert RebuildCoordinator.lock_key("alice") == "mc:{alice}:rebuild"


def test_mark_pending_is_true_first_then_false(platform, user_id):
    coord = platform.coordinator
    assert coord.is_pending(user_id) is False
    assert coord.mark_pending(user_id) is True
    assert coord.mark_pending(user_id) is False
    assert coord.mark_pending(user_id) is False
    assert coord.is_pending(user_id) is True


def test_take_pending_is_true_then_false(platform, user_id):
    coord = platform.coordinator
    assert coord.take_pending(user_id) is False
    assert coord.mark_pending(user_id) is True
    assert coord.take_pending(user_id) is True
    assert coord.take_pending(user_id) is False
    assert coord.is_pending(user_id) is False
    assert coord.mark_pending(user_id) is True  # a write after the rebuild started flags again


def test_unmark_pending_clears_the_flag(platform, user_id):
    coord = platform.coordinator
    assert coord.mark_pending(user_id) is True
    coord.unmark_pending(user_id)
    assert coord.is_pending(user_id) is False
    assert platform.redis.exists(coord.pending_key(user_id)) == 0
    assert coord.mark_pending(user_id) is True


def test_pending_flag_has_a_ttl(platform, user_id):
    coord = platform.coordinator
    assert coord.mark_pending(user_id) is True
    ttl = platform.redis.ttl(coord.pending_key(user_id))
    assert 0 < ttl <= coord.pending_ttl_s


def test_pending_flag_with_own_ttl(platform, user_id):
    coord = RebuildCoordinator(platform.redis, lock_ttl_s=30, pending_ttl_s=7)
    assert coord.mark_pending(user_id) is True
    assert 0 < platform.redis.ttl(coord.pending_key(user_id)) <= 7
    assert coord.mark_pending(user_id) is False  # a second mark does not extend it past the first
    assert 0 < platform.redis.ttl(coord.pending_key(user_id)) <= 7


def test_pending_flags_are_per_user(platform, user_id):
    coord = platform.coordinator
    other = user_id + "-b"
    assert coord.mark_pending(user_id) is True
    assert coord.is_pending(other) is False
    assert coord.mark_pending(other) is True
    assert coord.take_pending(user_id) is True
    assert coord.is_pending(other) is True
    coord.unmark_pending(other)


def test_lock_is_exclusive_per_user_and_independent_across_users(platform, user_id):
    coord = platform.coordinator
    other = user_id + "-b"
    mine = coord.lock(user_id)
    assert mine is not None
    assert coord.lock(user_id) is None
    theirs = coord.lock(other)
    assert theirs is not None

    coord.unlock(user_id, theirs)  # someone else's token does not free mine
    assert coord.lock(user_id) is None

    coord.unlock(user_id, mine)
    assert coord.lock(other) is None  # unlocking mine does not free theirs
    again = coord.lock(user_id)
    assert again is not None
    coord.unlock(user_id, again)
    coord.unlock(other, theirs)
    assert platform.redis.exists(coord.lock_key(user_id), coord.lock_key(other)) == 0


def test_lock_has_the_lock_ttl(platform, user_id):
    coord = RebuildCoordinator(platform.redis, lock_ttl_s=3, pending_ttl_s=7)
    token = coord.lock(user_id)
    assert token is not None
    assert 0 < platform.redis.pttl(coord.lock_key(user_id)) <= 3_000
    coord.unlock(user_id, token)


def test_lock_and_pending_flag_are_independent(platform, user_id):
    coord = platform.coordinator
    token = coord.lock(user_id)
    assert token is not None
    assert coord.mark_pending(user_id) is True
    assert coord.take_pending(user_id) is True
    assert coord.lock(user_id) is None
    coord.unlock(user_id, token)


def test_redis_down_mark_pending_and_lock_raise(user_id):
    coord = RebuildCoordinator(_down_client(), lock_ttl_s=30, pending_ttl_s=7)
    with pytest.raises(CacheUnavailable):
        coord.mark_pending(user_id)
    with pytest.raises(CacheUnavailable):
        coord.lock(user_id)
    with pytest.raises(CacheUnavailable):
        coord.take_pending(user_id)
    with pytest.raises(CacheUnavailable):
        coord.is_pending(user_id)


def test_redis_down_unlock_and_unmark_do_not_raise(user_id):
    coord = RebuildCoordinator(_down_client(), lock_ttl_s=30, pending_ttl_s=7)
    assert coord.unlock(user_id, "some-token") is None
    assert coord.unmark_pending(user_id) is None
