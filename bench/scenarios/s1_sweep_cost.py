"""S1 sweep cost: ``run_proactive_caching_job`` over many users with 0%, 1% and 10% of them dirty.

Users are created cheaply: an in-process L3 build of a user without memories is a valid build.
A first, unmeasured sweep makes every other user current. Then, per dirty share, that share of
the users gets its watermark bumped (as a write would), and two things are timed:

* the planner alone (``platform.sweep.planner.plan()`` in the bench process): users classified per
  second, the "skip rate" when nothing is dirty;
* the whole sweep through the worker: ``POST /v1/cache/warm-all`` until the sweep's progress in
  Redis has ``finished_at`` (planning, chunk tasks under their rate limit, the view refresh).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.output import say
from memcache_platform.tiers.l3_users import L3Users

ID = "S1"
TITLE = "Sweep cost: 0%, 1%, 10% dirty users"
SWEEP_TIMEOUT_S = 900.0
SIZES = {
    "tiny": {"users": 50, "planner_repeats": 2},
    "quick": {"users": 1000, "planner_repeats": 3},
    "full": {"users": 10_000, "planner_repeats": 5},
}
DIRTY_SHARES = (0.0, 0.01, 0.10)


def _create_users(stack, users: list[str]) -> float:
    started = time.perf_counter()
    # Known users, as the sweep records users seen by writes: an empty build of an unknown user
    # stores nothing (an erased user must stay erased), and these users have no memories.
    L3Users(stack.platform.l3).add_many(users)
    build = stack.platform.proactive_cache.update_user_favorite_cache
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda u: build(u, force=True), users))
    return time.perf_counter() - started


def _planner(stack, repeats: int) -> dict:
    timings, plan = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        plan = stack.platform.sweep.planner.plan()
        timings.append(time.perf_counter() - started)
    best = min(timings)
    return {
        "total": plan.total,
        "dirty": len(plan.dirty),
        "aged": len(plan.aged),
        "skipped": plan.skipped,
        "seconds_best": round(best, 4),
        "seconds_median": round(float(np.median(timings)), 4),
        "users_per_s": round(plan.total / best, 1),
    }


def sweep_progress(stack, sweep_id: str) -> dict:
    """The sweep's progress hash (``sweep.progress(id)``, or ``sweep.progress.read(id)`` in newer code)."""
    progress = stack.platform.sweep.progress
    return dict(progress.read(sweep_id) if hasattr(progress, "read") else progress(sweep_id))


def sweep_through_worker(stack) -> dict:
    """Start a sweep over HTTP and wait for its progress to say it finished."""
    started = time.perf_counter()
    sweep_id = stack.api.warm_all()
    deadline = time.monotonic() + SWEEP_TIMEOUT_S
    while True:
        progress = sweep_progress(stack, sweep_id)
        if "finished_at" in progress:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"sweep {sweep_id} not finished after {SWEEP_TIMEOUT_S:.0f} s: {progress}")
        time.sleep(0.05)
    wall = time.perf_counter() - started
    keys = ("total", "dirty", "aged", "skipped", "done", "failed", "rebuilt", "current", "coalesced")
    figures = {key: int(progress.get(key, 0)) for key in keys}
    return figures | {
        "wall_s": round(wall, 3),
        "users_per_s": round(figures["total"] / wall, 1),
        "rebuilt_per_s": round(figures["rebuilt"] / wall, 1),
        "skipped_per_s": round(figures["skipped"] / wall, 1),
        "global_view_refresh_ms": progress.get("global_view_refresh_ms"),
    }


def run(stack, size: str) -> dict:
    p = SIZES[size]
    users = [f"{stack.token}-s1-{i:05d}" for i in range(p["users"])]
    created_s = _create_users(stack, users)
    say(ID, f"{len(users)} users built in {created_s:.1f} s ({len(users) / created_s:.0f}/s)")
    stack.wait_idle()
    cleanup = sweep_through_worker(stack)
    say(
        ID, f"clean-up sweep: {cleanup['total']} users, {cleanup['rebuilt']} rebuilt in {cleanup['wall_s']} s"
    )
    rng = np.random.default_rng(61)
    result: dict = {"users": len(users), "create_users_per_s": round(len(users) / created_s, 1), "levels": {}}
    for share in DIRTY_SHARES:
        count = max(1, round(len(users) * share)) if share else 0
        dirty = rng.choice(users, size=count, replace=False).tolist()
        for user in dirty:
            stack.platform.watermarks.bump(user)
        planner = _planner(stack, p["planner_repeats"])
        sweep = sweep_through_worker(stack)
        result["levels"][f"{share:.0%}"] = {"dirty_users": len(dirty), "planner": planner, "sweep": sweep}
        say(
            ID,
            f"{share:>4.0%} dirty: planner {planner['seconds_best'] * 1000:.0f} ms for {planner['total']} "
            f"users = {planner['users_per_s']:.0f} users/s ({planner['dirty']} dirty); sweep via worker "
            f"{sweep['wall_s']:.2f} s: {sweep['rebuilt']} rebuilt ({sweep['rebuilt_per_s']:.0f}/s), "
            f"{sweep['skipped']} skipped ({sweep['skipped_per_s']:.0f}/s)",
        )
    return result
