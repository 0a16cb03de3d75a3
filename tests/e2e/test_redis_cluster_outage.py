"""Redis Cluster outages that a process lives through (issue 13, cluster items 1 and 2).

A cluster of its own (three real masters, no replicas), killed and restarted for real. A process
built while every node is down answers writes (201, cache degraded) and reads (L4), and uses the
cluster once the nodes are back, without a restart. A master that restarts empty while another
master is still down serves the platform's scripts again (SCRIPT LOAD on every master would fail).
Nothing is mocked.
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from memcache_platform.api import create_app
from memcache_platform.api.ratelimit import limiter
from memcache_platform.dev.cluster import RedisClusterServers
from memcache_platform.errors import CacheUnavailable
from memcache_platform.tiers.redis_client import REDIS_ERRORS, open_breakers
from memcache_platform.tiers.watermark import Watermarks
from memcache_platform.wiring import Platform
from tests.conftest import ADMIN_KEY, TEST_VAR

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def cluster():
    servers = RedisClusterServers(TEST_VAR / "cluster-outage")
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture
def on_cluster(cluster, platform):
    """A new Platform of this process on the cluster (nothing built yet); the limiter is handed back."""
    settings = platform.settings.model_copy(update={"redis_cluster": True, "redis_url": cluster.url})
    try:
        yield Platform(settings, enqueue=lambda _user: None, mem0=platform.mem0)
    finally:
        create_app(platform.settings, platform)  # Flask-Limiter is one object: back to the session's Redis


def test_a_process_started_while_every_node_is_down(cluster, on_cluster, wait_for):
    for port in cluster.ports:
        cluster.kill(port)
    p = on_cluster
    app = create_app(p.settings, p)  # the tiers and the limiter's storage, with no node reachable
    client = app.test_client()
    user = f"out-{uuid.uuid4().hex[:10]}"

    def post(text: str):  # type: ignore[no-untyped-def]
        body = {"messages": [{"role": "user", "content": text}]}
        return client.post(f"/v1/users/{user}/memories", json=body, headers=AUTH)

    def search() -> dict:
        reply = client.get(f"/v1/users/{user}/search", query_string={"q": "ramen"}, headers=AUTH)
        assert reply.status_code == 200, reply.json
        return reply.json

    written = post("I love ramen")
    assert written.status_code == 201, written.json
    assert written.json["cache"]["watermark"] is None  # degraded cache: no watermark bumped
    found = search()
    assert (found["tier"], found["degraded"]) == ("L4", True)
    assert "Likes ramen" in {r["memory"] for r in found["results"]}
    assert p.redis.built is None and limiter.storage.get_connection().built is None  # tried, not built

    for port in cluster.ports:  # the same ports and nodes.conf: the cluster is whole again, empty
        cluster.start_node(port)
    cluster.wait_ok()
    fresh = (f"I love noodle{n}z" for n in itertools.count())  # a new fact each time: a repeat is no write
    assert wait_for(lambda: post(next(fresh)).json["cache"]["watermark"] is not None, timeout=15)
    search()  # a miss that fills L2 on the user's master
    assert wait_for(lambda: search()["tier"] == "L2", timeout=10)
    assert limiter.storage.check()  # the limiter's lazy client is built on the cluster too


def test_a_master_restarted_empty_serves_scripts_while_another_is_down(cluster, on_cluster, wait_for):
    p = on_cluster
    marks: Watermarks = p.watermarks
    users = [f"out-s-{uuid.uuid4().hex[:8]}-{i}" for i in range(30)]
    by_port: dict[int, str] = {}
    for user in users:  # one user per master; every master runs the bump script once
        by_port.setdefault(int(p.redis.get_node_from_key(marks.key(user)).port), user)
        marks.bump(user)
    assert len(by_port) == 3
    down, restarted = cluster.ports[1], cluster.ports[2]
    try:
        cluster.kill(down)
        cluster.kill(restarted)
        cluster.start_node(restarted)  # empty: no keys, no scripts
        cluster.wait_ok(ports=[restarted, cluster.ports[0]])
        assert wait_for(lambda: f"127.0.0.1:{restarted}" not in open_breakers(p.redis), timeout=15)
        assert cluster.node(restarted).script_exists(marks._bump.sha) == [False]
        with pytest.raises(REDIS_ERRORS):  # what redis-py's own reload sends: fails while a master is down
            p.redis.script_load("return 1")

        assert marks.bump(by_port[restarted]) >= 1  # served by the restarted master (EVAL, then cached)
        assert cluster.node(restarted).script_exists(marks._bump.sha) == [True]
        assert marks.for_read(by_port[restarted]) >= 1
        with pytest.raises(CacheUnavailable):  # the other master really is still down
            marks.bump(by_port[down])
    finally:
        cluster.start_node(down)
        cluster.wait_ok()
