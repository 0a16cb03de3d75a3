"""Coalescing and generations, with the real worker: bursts, concurrent rebuilds, half-warmed sets."""

import threading

import pytest

from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.errors import MemoryStoreUnavailable
from memcache_platform.services.handoff import Handoff
from memcache_platform.services.proactive_cache import ProactiveCacheService, RebuildTuning
from tasks import update_user_favorite_cache

pytestmark = pytest.mark.integration


def test_burst_of_50_writes_costs_at_most_two_rebuilds(platform, celery_worker, user_id, write):
    # The L4 adds come first, so that a busy machine cannot spread the burst of hand-offs (what
    # coalescing is about) past the rebuild's settle window: each hand-off still bumps the watermark.
    for i in range(50):
        write(user_id, f"I love dish number {i}")
    sent = []
    handoff = Handoff(
        platform.watermarks,
        platform.coordinator,
        lambda u: sent.append(update_user_favorite_cache.delay(u)),
        2.0,
    )
    for _ in range(50):
        handoff(user_id)
    results = [r.get(timeout=60) for r in sent]
    assert sum(r["rebuilds"] for r in results) <= 2
    # ... and the last rebuild includes every write.
    entry = platform.l3.get(user_id)
    assert entry.built_from_watermark == platform.watermarks.current(user_id)
    assert entry.summary.memory_count == 50


def test_a_rebuild_finding_the_user_locked_is_coalesced_and_the_holder_runs_again(platform, user_id, write):
    write(user_id, "I love tea")
    token = platform.coordinator.lock(user_id)  # a rebuild of this user is "running"
    try:
        result = platform.proactive_cache.update_user_favorite_cache(user_id)
        assert result.outcome == "coalesced"
        assert platform.coordinator.is_pending(user_id)  # the holder will see it and go once more
    finally:
        platform.coordinator.unlock(user_id, token)


def test_current_user_is_skipped_without_reading_l4(platform, user_id, write):
    write(user_id, "I love tea")
    assert platform.proactive_cache.update_user_favorite_cache(user_id).outcome == "rebuilt"
    again = platform.proactive_cache.update_user_favorite_cache(user_id)
    assert (again.outcome, again.rebuilds, again.memories) == ("current", 0, None)


def test_rebuild_warms_hot_queries_under_a_new_generation(platform, user_id, write):
    write(user_id, "I love pho. I'm good at Python")
    for _ in range(3):
        platform.search.search(user_id, "favourite food", limit=3)
    platform.search.search(user_id, "programming skills", limit=3)
    write(user_id, "I love ramen")  # L2 entries are now stale
    before = platform.l2.state(user_id).generation
    result = platform.proactive_cache.update_user_favorite_cache(user_id)
    assert result.generation == before + 1
    assert result.l2_entries == 2
    view = platform.l2.state(user_id)
    assert (view.generation, view.generation_built_from) == (before + 1, view.watermark)
    warm = platform.search.search(user_id, "favourite food", limit=3)
    assert warm.tier == "L2"
    assert {"Likes pho", "Likes ramen"} <= {r["memory"] for r in warm.results}
    assert warm.results == platform.search.search(user_id, "favourite food", limit=3).results


class FailingSecondSearch:
    """Fault injection: Mem0 goes away in the middle of warming (cannot be timed for real)."""

    def __init__(self, backend) -> None:
        self.backend, self.calls = backend, 0

    def search(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("Mem0's database went away")
        return self.backend.search(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def test_a_rebuild_dying_half_way_publishes_nothing(platform, user_id, write):
    write(user_id, "I love pho. I'm good at Python")
    platform.search.search(user_id, "favourite food", limit=3)
    platform.search.search(user_id, "programming skills", limit=3)
    write(user_id, "I love ramen")
    before = platform.l2.state(user_id)
    broken = ProactiveCacheService(
        Mem0ClientWrapper(FailingSecondSearch(platform.mem0.backend), timeout_s=30),
        platform.l3,
        platform.watermarks,
        l2=platform.l2,
        hot=platform.hot_queries,
        coordinator=platform.coordinator,
        tuning=RebuildTuning(settle_s=0),
    )
    with pytest.raises(MemoryStoreUnavailable):
        broken.update_user_favorite_cache(user_id)
    after = platform.l2.state(user_id)
    assert (after.generation, after.generation_built_from) == (
        before.generation,
        before.generation_built_from,
    )
    assert platform.l2.count(user_id, before.generation + 1) == 0
    # readers still answer correctly (the stale entry is a miss, L4 answers)
    assert platform.search.search(user_id, "favourite food", limit=3).tier == "L4"


def test_concurrent_rebuilds_of_one_user_do_not_both_run(platform, user_id, write):
    write(user_id, "I love tea")
    slow = ProactiveCacheService(
        platform.mem0,
        platform.l3,
        platform.watermarks,
        l2=platform.l2,
        hot=platform.hot_queries,
        coordinator=platform.coordinator,
        tuning=RebuildTuning(settle_s=0.3, max_delay_s=0.3),
    )
    platform.watermarks.bump(user_id)  # a write "just now": the first rebuild settles for 0.3 s
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(slow.update_user_favorite_cache(user_id)))
        for _ in range(2)
    ]
    threads[0].start()
    threads[0].join(0.1)
    threads[1].start()
    for t in threads:
        t.join(30)
    assert sorted(r.outcome for r in outcomes) == ["coalesced", "rebuilt"]
    # The holder was still settling when the second arrived, so one round included both.
    assert sum(r.rebuilds for r in outcomes) == 1
    assert platform.l3.get(user_id).built_from_watermark == platform.watermarks.current(user_id)


class PausedGetAll:
    """Instrumentation: the real backend, but the first get_all waits until the test releases it."""

    def __init__(self, backend) -> None:
        self.backend, self.entered, self.release, self.calls = (
            backend,
            threading.Event(),
            threading.Event(),
            0,
        )

    def get_all(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            self.release.wait(30)
        return self.backend.get_all(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def test_a_write_during_a_rebuild_causes_exactly_one_more(platform, user_id, write):
    write(user_id, "I love tea")
    paused = PausedGetAll(platform.mem0.backend)
    service = ProactiveCacheService(
        Mem0ClientWrapper(paused, timeout_s=60),
        platform.l3,
        platform.watermarks,
        l2=platform.l2,
        hot=platform.hot_queries,
        coordinator=platform.coordinator,
        tuning=RebuildTuning(settle_s=0),
    )
    holder: list = []
    thread = threading.Thread(target=lambda: holder.append(service.update_user_favorite_cache(user_id)))
    thread.start()
    assert paused.entered.wait(30)  # the holder is reading L4 now
    write(user_id, "I love coffee")
    platform.coordinator.mark_pending(user_id)  # what the write's hand-off does
    assert service.update_user_favorite_cache(user_id).outcome == "coalesced"
    paused.release.set()
    thread.join(30)
    assert holder[0].rebuilds == 2
    assert paused.calls == 2
    assert platform.l3.get(user_id).summary.favorites == {"general": ["coffee", "tea"]}
