"""The hand-off's outcomes after a write, as pure logic: small fakes for watermarks, coordinator, enqueue.

The fakes stand for Redis and the broker answering or failing; the integration and e2e tests run
the same hand-off against the real ones.
"""

from __future__ import annotations

import threading

from memcache_platform.errors import CacheUnavailable
from memcache_platform.services.handoff import Handoff, HandoffResult


class FakeWatermarks:
    """Bumps a counter, or fails as ``Watermarks.bump`` does with Redis down."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.value = 41

    def bump(self, user_id: str) -> int:
        if self.down:
            raise CacheUnavailable("redis down")
        self.value += 1
        return self.value


class FakeCoordinator:
    """The pending flag: set once per user until unmarked."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.pending: set[str] = set()
        self.unmarked: list[str] = []

    def mark_pending(self, user_id: str) -> bool:
        if self.down:
            raise CacheUnavailable("redis down")
        first = user_id not in self.pending
        self.pending.add(user_id)
        return first

    def unmark_pending(self, user_id: str) -> None:
        self.pending.discard(user_id)
        self.unmarked.append(user_id)


class FakeOutbox:
    """Holds what the hand-off hands it; no background redelivery (that is ``HandoffOutbox``'s)."""

    def __init__(self) -> None:
        self.users: list[str] = []

    def __len__(self) -> int:
        return len(self.users)

    def add(self, user_id: str) -> None:
        self.users.append(user_id)


class Enqueue:
    """Records enqueued users; ``fail`` raises as a refused broker does, ``block`` hangs as a hung one."""

    def __init__(self, *, fail: bool = False, block: threading.Event | None = None) -> None:
        self.fail = fail
        self.block = block
        self.users: list[str] = []

    def __call__(self, user_id: str) -> object:
        self.users.append(user_id)
        if self.block is not None:
            self.block.wait(5)
        if self.fail:
            raise ConnectionError("broker refused")
        return "task-id"


def _handoff(enqueue, *, watermarks=None, coordinator=None, outbox=False):  # type: ignore[no-untyped-def]
    handoff = Handoff(
        watermarks or FakeWatermarks(),
        coordinator,
        enqueue,
        0.2,
        outbox_size=10 if outbox else 0,
    )
    if outbox:
        handoff.outbox = FakeOutbox()  # type: ignore[assignment]
    return handoff


def test_queued_bumps_the_watermark_and_enqueues_once():
    enqueue = Enqueue()
    assert _handoff(enqueue, coordinator=FakeCoordinator())("alice") == HandoffResult(42, "queued")
    assert enqueue.users == ["alice"]


def test_a_second_write_while_a_rebuild_is_pending_is_coalesced_without_an_enqueue():
    enqueue, coordinator = Enqueue(), FakeCoordinator()
    handoff = _handoff(enqueue, coordinator=coordinator)
    handoff("alice")
    assert handoff("alice") == HandoffResult(43, "coalesced")
    assert enqueue.users == ["alice"]


def test_a_refused_enqueue_is_failed_and_clears_the_pending_flag_for_the_next_write():
    enqueue, coordinator = Enqueue(fail=True), FakeCoordinator()
    handoff = _handoff(enqueue, coordinator=coordinator)
    assert handoff("alice") == HandoffResult(42, "failed")
    assert coordinator.unmarked == ["alice"]
    assert handoff("alice").handoff == "failed"  # not "coalesced": the next write tries again
    assert enqueue.users == ["alice", "alice"]


def test_a_hung_enqueue_times_out_within_the_bound_and_clears_the_pending_flag():
    release = threading.Event()
    coordinator = FakeCoordinator()
    try:
        result = _handoff(Enqueue(block=release), coordinator=coordinator)("alice")
    finally:
        release.set()
    assert result == HandoffResult(42, "timeout")
    assert coordinator.unmarked == ["alice"]


def test_without_an_outbox_a_failed_bump_still_enqueues():
    enqueue = Enqueue()
    result = _handoff(enqueue, watermarks=FakeWatermarks(down=True))("alice")
    assert result == HandoffResult(None, "queued")
    assert enqueue.users == ["alice"]


def test_a_coordinator_that_cannot_tell_enqueues_anyway():
    enqueue = Enqueue()
    assert _handoff(enqueue, coordinator=FakeCoordinator(down=True))("alice").handoff == "queued"
    assert enqueue.users == ["alice"]


def test_with_an_outbox_a_failed_bump_goes_to_the_outbox_without_an_enqueue():
    enqueue = Enqueue()
    handoff = _handoff(enqueue, watermarks=FakeWatermarks(down=True), outbox=True)
    assert handoff("alice") == HandoffResult(None, "outbox")
    assert enqueue.users == []  # the broker may be that same Redis: no publish to wait on
    assert handoff.outbox.users == ["alice"]  # type: ignore[union-attr]


def test_with_an_outbox_a_failed_enqueue_goes_to_the_outbox():
    handoff = _handoff(Enqueue(fail=True), coordinator=FakeCoordinator(), outbox=True)
    assert handoff("alice") == HandoffResult(42, "outbox")
    assert handoff.outbox.users == ["alice"]  # type: ignore[union-attr]


def test_while_the_outbox_holds_users_a_write_joins_it_without_touching_the_network():
    enqueue, watermarks = Enqueue(), FakeWatermarks()
    handoff = _handoff(enqueue, watermarks=watermarks, outbox=True)
    handoff.outbox.users.append("bob")  # type: ignore[union-attr]
    assert handoff("alice") == HandoffResult(None, "outbox")
    assert (enqueue.users, watermarks.value) == ([], 41)


def test_redeliver_is_done_only_once_bump_and_enqueue_both_worked():
    coordinator = FakeCoordinator()
    assert (
        _handoff(Enqueue(), watermarks=FakeWatermarks(down=True), coordinator=coordinator).redeliver("a")
        is False
    )
    assert _handoff(Enqueue(fail=True), coordinator=coordinator).redeliver("a") is False
    assert coordinator.unmarked == ["a"]  # the failed enqueue left no pending flag behind
    assert _handoff(Enqueue(), coordinator=coordinator).redeliver("a") is True
    assert _handoff(Enqueue(fail=True), coordinator=coordinator).redeliver("a") is True  # pending: coalesced


def _settled(check, timeout_s: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    """The lost-watermark rebuild is enqueued on the hand-off pool, unwaited: poll for its effect."""
    import time

    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_lost_watermark_asks_for_one_rebuild_without_a_bump():
    enqueue, coordinator, watermarks = Enqueue(), FakeCoordinator(), FakeWatermarks()
    handoff = _handoff(enqueue, watermarks=watermarks, coordinator=coordinator)
    handoff.rebuild_lost("alice")
    handoff.rebuild_lost("alice")  # a second reader before the rebuild ran: coalesced
    assert _settled(lambda: enqueue.users == ["alice"])
    assert watermarks.value == 41  # nothing was written: no bump


def test_a_lost_watermark_rebuild_refused_by_the_broker_clears_the_flag_for_the_next_reader():
    enqueue, coordinator = Enqueue(fail=True), FakeCoordinator()
    handoff = _handoff(enqueue, coordinator=coordinator)
    handoff.rebuild_lost("alice")
    assert _settled(lambda: coordinator.unmarked == ["alice"])
    assert "alice" not in coordinator.pending
