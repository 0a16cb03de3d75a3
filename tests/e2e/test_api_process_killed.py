"""The API process SIGKILLed during a Redis outage loses no hand-off: its dirty marks outlive it.

Mock-free arrangement: a real gunicorn (master and one worker) whose cache Redis and broker are a
``RedisServer`` of its own, so the session's Redis stays up. That Redis is stopped for real, writes
arrive over HTTP (201, hand-off ``outbox``: held only in the worker's memory, plus a durable mark in
the real PostgreSQL), the master and its worker are SIGKILLed, and the Redis starts again empty.
One sweep then runs against that Redis: with the hosted backend's planner (no L4 counts, no L4 user
listing: only the marks can tell) and with the default local one.
"""

import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from config.settings import Settings
from memcache_platform.dev.servers import RedisServer, free_port
from memcache_platform.services.sweep import SweepService
from memcache_platform.services.sweep_stream import L4Reconciler, StreamingPlanner
from memcache_platform.tiers.known_users import KnownUsers
from memcache_platform.tiers.l3_users import L3Users
from memcache_platform.wiring import Platform
from tests.conftest import API_KEY
from tests.support.web import kill_tree, start_gunicorn, wait_until_mem0_ready

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _start_web(redis_url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """gunicorn as the Procfile runs it, cache and broker on ``redis_url``; returns once Mem0 is up."""
    env = {
        "MEMCACHE_REDIS_URL": redis_url,
        "MEMCACHE_BROKER_URL": redis_url.replace("/0", "/1"),
        "MEMCACHE_RESULT_BACKEND": redis_url.replace("/0", "/2"),
        "MEMCACHE_BIND": f"127.0.0.1:{port}",
    }
    proc = start_gunicorn(env, log_path)
    wait_until_mem0_ready(proc, f"http://127.0.0.1:{port}", log_path)
    return proc


def _post(port: int, user: str, text: str) -> requests.Response:
    body = {"messages": [{"role": "user", "content": text}]}
    return requests.post(
        f"http://127.0.0.1:{port}/v1/users/{user}/memories", json=body, headers=AUTH, timeout=30
    )


@pytest.mark.parametrize("backend", ["hosted", "local"])
def test_writes_held_by_a_killed_api_process_reach_l3_in_one_sweep(platform, tmp_path, backend):
    own_redis = RedisServer(tmp_path / "redis").start()
    port = free_port()
    web = _start_web(own_redis.url, port, tmp_path / "gunicorn.log")
    # The sweep's side of the deployment: the same Redis, L3 and Mem0; it enqueues nothing.
    side = Platform(Settings(redis_url=own_redis.url), enqueue=lambda _: None, mem0=platform.mem0)
    run = uuid.uuid4().hex[:8]
    built, fresh = [f"killed-{run}-{i}" for i in range(2)], f"killed-{run}-new"
    try:
        for user in built:  # users with a build from before the outage, from a real watermark
            assert _post(port, user, "My favourite food is pho").status_code == 201
            side.proactive_cache.update_user_favorite_cache(user, force=True)
            assert side.l3.get(user).built_from_watermark > 0
        own_redis.stop()
        for user in [*built, fresh]:
            for text in ("I love ramen", "I love sencha"):
                response = _post(port, user, text)
                assert (response.status_code, response.json()["cache"]["handoff"]) == (201, "outbox")
        assert {*built, fresh} <= set(platform.l3.dirty_marks())
        kill_tree(web)
        own_redis.start()  # empty: no registry, no watermarks, no pending flags

        if backend == "hosted":
            # The planner a hosted deployment builds (wiring.Platform.sweep): the streaming planner with
            # a membership-only reconciler, here listing nobody, so the dirty marks alone must suffice.
            users = L3Users(side.l3)
            reconciler = L4Reconciler(users, interval_s=3600, list_users=lambda: [])
            planner = StreamingPlanner(
                users,
                KnownUsers(side.redis),
                side.watermarks,
                max_age_s=side.settings.sweep_max_age_s,
                reconciler=reconciler,
            )
        else:
            planner = side.sweep.planner
        plan = planner.plan()
        assert {*built, fresh} <= set(plan.dirty)
        sweep = SweepService(side.sweep_progress, planner, side.proactive_cache, side.l3)
        sweep.start(f"killed-{run}", plan)
        for chunk in plan.chunks(side.settings.sweep_chunk_size):
            assert not sweep.run_chunk(f"killed-{run}", chunk).failed

        for user, expected in [*((u, 3) for u in built), (fresh, 2)]:
            entry = side.l3.get(user)
            assert entry.summary.memory_count == expected, user
            assert set(entry.summary.favorites["general"]) == {"ramen", "sencha"}
        assert not {*built, fresh} & set(side.l3.dirty_marks())  # answered by the rebuilds
        assert not {*built, fresh} & set(planner.plan().dirty)
    finally:
        if web.poll() is None:
            kill_tree(web)
        own_redis.stop()
