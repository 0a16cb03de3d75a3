"""The hand-off after a write: best effort, bounded in time, never raising."""

import threading
import time

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.services.handoff import Handoff
from memcache_platform.tiers.redis_client import cache_redis
from memcache_platform.tiers.watermark import Watermarks
from tests.support.metrics import sample

pytestmark = pytest.mark.integration


def _failures() -> float:
    return sample("memcache_handoffs_total", outcome="failed")


def test_queued_handoff_bumps_watermark_and_enqueues(platform, user_id):
    sent: list[str] = []
    result = Handoff(platform.watermarks, None, sent.append, timeout_s=1)(user_id)
    assert sent == [user_id]
    assert result.handoff == "queued"
    assert result.watermark == platform.watermarks.current(user_id)


def test_enqueue_error_is_counted_not_raised(platform, user_id):
    def broken(_: str) -> None:
        raise ConnectionRefusedError("broker away")

    before = _failures()
    result = Handoff(platform.watermarks, None, broken, timeout_s=1)(user_id)
    assert result.handoff == "failed"
    assert _failures() == before + 1


def test_hung_enqueue_is_cut_at_the_timeout(platform, user_id):
    release = threading.Event()
    started = time.monotonic()
    result = Handoff(platform.watermarks, None, lambda _: release.wait(10), timeout_s=0.2)(user_id)
    waited = time.monotonic() - started
    release.set()
    assert result.handoff == "timeout"
    assert waited < 5  # bounded: far below the 10 s the enqueue would have taken


def test_redis_down_still_enqueues(user_id):
    sent: list[str] = []
    dead = Watermarks(cache_redis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2))
    result = Handoff(dead, None, sent.append, timeout_s=1)(user_id)
    assert result.watermark is None
    assert result.handoff == "queued"
    assert sent == [user_id]


def test_second_write_while_a_rebuild_is_pending_is_coalesced(platform, user_id):
    sent: list[str] = []
    handoff = Handoff(platform.watermarks, platform.coordinator, sent.append, timeout_s=1)
    assert handoff(user_id).handoff == "queued"
    second = handoff(user_id)
    assert second.handoff == "coalesced"
    assert second.watermark == platform.watermarks.current(user_id)  # the write is still marked
    assert sent == [user_id]  # one rebuild enqueued for both writes
    platform.coordinator.take_pending(user_id)  # the rebuild starts
    assert handoff(user_id).handoff == "queued"


def test_failed_enqueue_clears_pending_so_the_next_write_retries(platform, user_id):
    def broken(_: str) -> None:
        raise ConnectionRefusedError("broker away")

    assert (
        Handoff(platform.watermarks, platform.coordinator, broken, timeout_s=1)(user_id).handoff == "failed"
    )
    sent: list[str] = []
    assert (
        Handoff(platform.watermarks, platform.coordinator, sent.append, timeout_s=1)(user_id).handoff
        == "queued"
    )
    assert sent == [user_id]
