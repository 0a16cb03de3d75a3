"""The all-users sweep: plans cheaply, rebuilds exactly the dirty users, heals lost hand-offs."""

from datetime import UTC, datetime, timedelta

import pytest

from memcache_platform.tiers.l3_users import L3Users
from tasks import run_proactive_caching_job

pytestmark = pytest.mark.integration


@pytest.fixture
def two_hundred_users(platform, user_id):
    """200 known users, each with a current L3 build (no memories needed: a build of nothing is a build)."""
    users = [f"{user_id}-{i:03d}" for i in range(200)]
    L3Users(platform.l3).add_many(users)  # as the sweep records users seen by writes
    for user in users:
        platform.proactive_cache.update_user_favorite_cache(user, force=True)
    return users


def test_plan_puts_the_20_dirty_users_first_and_skips_180(platform, two_hundred_users):
    dirty = two_hundred_users[::10]
    for user in dirty:
        platform.watermarks.bump(user)
    plan = platform.sweep.planner.plan(two_hundred_users)
    assert plan.dirty == dirty  # oldest write first: bumped in this order
    assert (plan.aged, plan.skipped, plan.total) == ([], 180, 200)


def test_plan_rebuilds_builds_older_than_the_max_age(platform, two_hundred_users):
    later = datetime.now(UTC) + timedelta(seconds=platform.settings.sweep_max_age_s + 1)
    plan = platform.sweep.planner.plan(two_hundred_users, now=later)
    assert (plan.dirty, len(plan.aged), plan.skipped) == ([], 200, 0)


def test_sweep_through_the_worker_rebuilds_exactly_the_dirty_users(platform, sweep_now, two_hundred_users):
    dirty = set(two_hundred_users[::10])
    for user in dirty:
        platform.watermarks.bump(user)
    before = {u: platform.l3.get(u).built_at for u in two_hundred_users}
    summary = sweep_now()
    after = {u: platform.l3.get(u) for u in two_hundred_users}
    rebuilt = {u for u in two_hundred_users if after[u].built_at != before[u]}
    assert rebuilt == dirty
    assert all(after[u].built_from_watermark == platform.watermarks.current(u) for u in dirty)
    assert summary["failed"] == 0
    assert summary["skipped"] >= 180
    assert summary["done"] == summary["dirty"] + summary["aged"]


def test_a_lost_handoff_is_healed_by_the_next_sweep(platform, sweep_now, user_id, write, client, auth):
    write(user_id, "My favourite food is pho")  # written to L4, hand-off lost: nothing enqueued
    assert client.get(f"/v1/users/{user_id}/favorites", headers=auth).json["tier"] == "L4"
    sweep_now()
    favorites = client.get(f"/v1/users/{user_id}/favorites", headers=auth).json
    assert (favorites["tier"], favorites["stale"]) == ("L3", False)
    assert favorites["favorites"] == {"food": ["pho"]}


def test_users_known_only_to_l4_are_found_by_reconciliation(platform, user_id):
    platform.mem0.add("Likes tea", user_id=user_id)  # no hand-off, no registry entry, no L3 row
    assert user_id not in platform.registry.all_users(reconcile=False)
    assert user_id in platform.registry.all_users()
    assert user_id in platform.sweep.planner.plan().dirty


def test_sweep_refreshes_the_global_favourites_view(platform, sweep_now, user_id, write, client, auth):
    topic = f"dish{user_id[-6:]}"
    for i in range(3):
        write(f"{user_id}-{i}", f"My favourite {topic} is pho")
    write(f"{user_id}-3", f"My favourite {topic} is ramen")
    summary = sweep_now()
    assert summary["rebuilt"] >= 4
    stats = client.get(f"/v1/stats/favorites?topic={topic}", headers=auth).json
    assert stats["topics"] == {topic: [{"value": "pho", "users": 3}, {"value": "ramen", "users": 1}]}
    assert stats["refreshed_at"] is not None


def test_overlapping_sweeps_do_not_pile_up(platform, celery_worker, wait_for):
    platform.redis.set("mc:sweep-running", "an-earlier-sweep", ex=60)  # one is under way
    try:
        result = run_proactive_caching_job.delay()
        summary = result.get(timeout=60)
    finally:
        platform.redis.delete("mc:sweep-running")
    assert summary["superseded_by"] == "an-earlier-sweep"
    assert "finished_at" in platform.sweep_progress.read(result.id)


def test_a_write_whose_handoff_and_watermark_bump_were_both_lost_is_healed(platform, sweep_now, user_id):
    # Redis was down for this write: no watermark bump, no registry entry, no task; L3 looks current.
    platform.mem0.add("Likes tea", user_id=user_id)
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert user_id not in platform.sweep.planner.plan().dirty
    platform.mem0.add("Likes coffee", user_id=user_id)  # the lost write
    assert user_id in platform.sweep.planner.plan().dirty  # L4 holds 2 memories, the build 1
    sweep_now()
    assert platform.l3.get(user_id).summary.memory_count == 2  # the sweep really rebuilt it
    assert user_id not in platform.sweep.planner.plan().dirty


def test_a_lost_write_is_healed_after_redis_restarted_empty(
    platform, sweep_now, user_id, write, redis_outage
):
    # The session finding: a build from watermark W, then Redis restarts empty (W is gone) and a write
    # lands in L4 without a bump. Every forced rebuild read watermark 0 and L3 refused it as "older".
    write(user_id, "My favourite food is pho")
    platform.proactive_cache.update_user_favorite_cache(user_id)
    assert platform.l3.get(user_id).built_from_watermark > 0
    with redis_outage():  # stopped for real, started again empty
        platform.mem0.add("Likes tea", user_id=user_id)  # a write whose hand-off was lost
    assert platform.watermarks.current(user_id) == 0
    assert user_id in platform.sweep.planner.plan().dirty  # L4 holds 2, the build 1
    sweep_now()
    assert platform.l3.get(user_id).summary.memory_count == 2
    assert user_id not in platform.sweep.planner.plan().dirty  # healed in one sweep, not stuck


def test_a_sweep_with_nothing_due_finishes_at_once(platform, sweep_now):
    # Over the whole session's users: the first sweep rebuilds whatever earlier tests left due; the
    # next must find nothing. A user dirty in two sweeps in a row is the bug this test was dropped for.
    first = sweep_now()
    still = platform.sweep.planner.plan()
    assert not still.dirty and not still.aged, (first, still.dirty[:10], still.aged[:10])
    summary = sweep_now()
    assert (summary["dirty"], summary["aged"], summary["done"]) == (0, 0, 0)
    assert summary["rebuilt"] == 0
    assert summary["skipped"] == summary["total"] > 0
