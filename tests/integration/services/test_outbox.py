"""The hand-off outbox: bounded, deduplicated, retried with backoff until delivery works."""

import threading

import pytest

from memcache_platform.services.outbox import HandoffOutbox
from tests.support.metrics import sample

pytestmark = pytest.mark.integration


class Gate:
    """Delivery that fails until opened (stands for Redis and the broker coming back)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.delivered: list[str] = []
        self.attempts = 0

    def __call__(self, user_id: str) -> bool:
        self.attempts += 1
        if not self.open.is_set():
            return False
        self.delivered.append(user_id)
        return True


def test_retries_until_delivery_works_then_delivers_in_order(wait_for):
    gate = Gate()
    outbox = HandoffOutbox(gate, maxlen=10, base_delay_s=0.01, max_delay_s=0.05)
    for user in ["a", "b", "a", "c"]:
        outbox.add(user)
    assert len(outbox) == 3  # "a" once
    assert wait_for(lambda: gate.attempts >= 3, timeout=5)
    assert gate.delivered == []
    gate.open.set()
    outbox.retry_now()
    assert wait_for(lambda: len(outbox) == 0, timeout=5)
    assert gate.delivered == ["b", "a", "c"]  # "a" moved behind "b" when it was added again


def test_full_outbox_drops_the_oldest_and_counts_it():
    gate = Gate()
    outbox = HandoffOutbox(gate, maxlen=3, base_delay_s=5, max_delay_s=5)
    dropped = sample("memcache_outbox_dropped_total")
    for user in ["u1", "u2", "u3", "u4", "u5"]:
        outbox.add(user)
    assert len(outbox) == 3
    assert sample("memcache_outbox_dropped_total") - dropped == 2
    assert list(outbox._users) == ["u3", "u4", "u5"]
