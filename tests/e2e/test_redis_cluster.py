"""The cache tiers on a real 3-master Redis Cluster (issue 13, item 1).

The cluster runs from the redis-server ``make run`` uses (memcache_platform/dev/cluster.py), once
for this module. A Platform of this process with ``redis_cluster=True`` shares the session's Mem0;
its hand-offs enqueue nothing (the session worker serves the session's plain Redis), so the tests
run rebuilds in-process. Its cluster client records the keys of every script, multi-key command
and transaction (tests/support/cluster_slots.py): every one must name a single slot. A master is
SIGKILLed during writes: no write fails, its users degrade to L4, the others keep their L2 hits,
and all recover once it is restarted on its port and config. Nothing is mocked.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from config.settings import Settings
from memcache_platform.api import create_app
from memcache_platform.dev.cluster import RedisClusterServers
from memcache_platform.tiers.hot_queries import QuerySpec
from memcache_platform.tiers.redis_client import open_breakers, scan_user
from memcache_platform.wiring import Platform
from tests.conftest import ADMIN_KEY, TEST_VAR
from tests.support.cluster_slots import SlotLog, recording_client

pytestmark = pytest.mark.integration
LOG = SlotLog()


@pytest.fixture(scope="module")
def cluster():
    servers = RedisClusterServers(TEST_VAR / "cluster")
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def on_cluster(cluster, platform):
    """(platform, app) of this process on the cluster; the shared rate limiter is handed back after."""
    settings = platform.settings.model_copy(update={"redis_cluster": True, "redis_url": cluster.url})
    Settings.model_validate(settings.model_dump())  # the settings as a deployment would load them
    p = Platform(settings, enqueue=lambda _user: None, mem0=platform.mem0)
    s = settings
    p.__dict__["redis"] = recording_client(
        LOG,
        cluster.url,
        timeout_s=s.cache_timeout_s,
        breaker_open_s=s.redis_breaker_open_s,
        breaker_probe_s=s.redis_breaker_probe_s,
    )
    try:
        yield p, create_app(settings, p)
    finally:
        create_app(platform.settings, platform)  # Flask-Limiter is one object: back to the session's Redis


def _post(client, user: str, text: str):  # type: ignore[no-untyped-def]
    body = {"messages": [{"role": "user", "content": text}]}
    return client.post(f"/v1/users/{user}/memories", json=body, headers=_auth())


def _search(client, user: str, q: str = "what food do I like"):  # type: ignore[no-untyped-def]
    reply = client.get(f"/v1/users/{user}/search", query_string={"q": q}, headers=_auth())
    assert reply.status_code == 200, reply.json
    return reply.json


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_write_search_rebuild_delete_erase_on_the_cluster(on_cluster):
    p, app = on_cluster
    client = app.test_client()
    user = f"cl-{uuid.uuid4().hex[:10]}"

    written = _post(client, user, "I love pho")
    assert written.status_code == 201, written.json
    assert written.json["cache"]["watermark"] is not None  # bumped on the user's master
    assert _search(client, user)["tier"] == "L4"  # a miss fills L2
    assert _search(client, user)["tier"] == "L2"
    assert p.proactive_cache.update_user_favorite_cache(user).outcome == "rebuilt"
    hit = _search(client, user)  # the rebuild re-warmed the hot query into the new generation
    assert (hit["tier"], [r["memory"] for r in hit["results"]]) == ("L2", ["Likes pho"])
    favorites = client.get(f"/v1/users/{user}/favorites", headers=_auth()).json
    assert (favorites["tier"], favorites["favorites"]) == ("L3", {"general": ["pho"]})
    status = client.get(f"/v1/users/{user}/cache", headers=_auth()).json
    assert status["generation"] >= 1 and status["watermark"] == status["built_from"]

    memory_id = client.get(f"/v1/users/{user}/memories", headers=_auth()).json["memories"][0]["id"]
    assert client.delete(f"/v1/users/{user}/memories/{memory_id}", headers=_auth()).status_code == 204
    assert _search(client, user)["tier"] == "L4"  # the delete's watermark made the entry stale
    p.proactive_cache.update_user_favorite_cache(user, owner="task-id")  # as a task runs it
    after = _search(client, user)
    assert (after["tier"], after["results"]) == ("L2", [])

    keys = list(scan_user(p.redis, user, "*"))
    assert len(keys) >= 4 and len({redis.cluster.key_slot(k) for k in keys}) == 1, keys
    assert next(p.redis.scan_iter(match="LIMITS*"), None) is not None  # rate-limit windows on the cluster
    erased = client.delete(f"/v1/users/{user}", headers=_auth())
    assert erased.status_code == 200, erased.json
    assert list(scan_user(p.redis, user, "*")) == []


def test_cross_user_reads_and_global_keys_work_across_nodes(on_cluster, cluster):
    p, _ = on_cluster
    users = [f"cl-many-{uuid.uuid4().hex[:8]}-{i}" for i in range(30)]
    nodes = {p.redis.get_node_from_key(p.watermarks.key(u)).name for u in users}
    assert len(nodes) == 3  # the users really are spread over the three masters
    marks = {u: p.watermarks.bump(u) for u in users}
    assert p.watermarks.current_many(users, batch=7) == marks  # a pipeline of GETs across nodes
    registry = p.registry.known  # the registry set and the sweep's drain of it
    for u in users:
        registry.add(u)
    seen = {u for batch in registry.batches(count=10) for u in batch}
    assert set(users) <= seen
    registry.remove_many(users)
    assert not set(users) & registry.members()

    progress = p.sweep_progress
    assert progress.claim("cl-sweep", ttl_s=30) is None
    progress.write("cl-sweep", {"total": 30})
    assert progress.advance("cl-sweep", done=3, failed=1) == {"total": 30, "done": 3, "failed": 1}
    progress.release("cl-sweep")
    store = p.compat_events.store
    store.save({"id": "cl-event", "status": "PENDING"})
    assert store.get("cl-event") == {"id": "cl-event", "status": "PENDING"}

    events = p.mem0_event_marks  # MULTI/EXEC pipelines on one user's slot
    events.add_pending(users[0], ["e1", "e2"])
    events.record_failure(users[0], "e1", "FAILED")
    assert set(events.pending(users[0])) == {"e1", "e2"} and events.failures(users[0])[0]["event_id"] == "e1"
    p.hot_queries.record(users[1], QuerySpec("tea", 5))
    l1 = p.l1  # shared keys: spread freely, pipelined across nodes
    l1.set_many({f"cl query {i}": [0.0] * 384 for i in range(10)})
    assert all(v is not None for v in l1.get_many([f"cl query {i}" for i in range(10)]))
    assert l1.count_cached([f"cl query {i}" for i in range(10)]) == 10
    lease = p.search.leases
    token = lease.acquire(f"mc:{{{users[2]}}}:lease:x", 1000)
    assert token and lease.renew(f"mc:{{{users[2]}}}:lease:x", token, 1000)


def test_every_script_and_multi_key_call_touches_one_slot(on_cluster):
    """Over every call the two tests above made: one slot per script, multi-key command, transaction."""
    p, _ = on_cluster
    kinds = {c.kind for c in LOG.calls}
    assert {"script", "transaction", "command"} <= kinds, kinds  # all three kinds were seen
    assert not LOG.cross_slot(), [(c.kind, c.name, c.keys) for c in LOG.cross_slot()]
    assert not LOG.scripts_never_called(), LOG.scripts_never_called()
    names = {c.kind: sorted({x.name for x in LOG.calls if x.kind == c.kind}) for c in LOG.calls}
    print(f"\n{len(LOG.calls)} calls on one slot each: {names}")

    # The check itself goes red: a script over two users' keys is recorded as cross-slot.
    crossing = p.redis.register_script("return redis.call('GET', KEYS[1])")
    with pytest.raises(redis.RedisClusterException):
        crossing(keys=["mc:{a}:wm", "mc:{b}:wm"])
    assert [c.name for c in LOG.cross_slot()] == [LOG.script_name(crossing.sha)]


class _Writer(threading.Thread):
    """Writes a new fact for one user after another until stopped; records each status."""

    def __init__(self, app, users: list[str]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.client, self.users = app.test_client(), users
        self.codes: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            self.codes.append(
                _post(self.client, self.users[n % len(self.users)], f"I love fruit{n}z").status_code
            )


def test_a_master_killed_during_writes(on_cluster, cluster, wait_for):
    p, app = on_cluster
    client = app.test_client()
    users = [f"cl-kill-{uuid.uuid4().hex[:8]}-{i}" for i in range(12)]
    for user in users:
        assert _post(client, user, "I love tea").status_code == 201
        _search(client, user, "tea")  # fills L2
    port = int(p.redis.get_node_from_key(p.watermarks.key(users[0])).port)
    on_dead = [u for u in users if int(p.redis.get_node_from_key(p.watermarks.key(u)).port) == port]
    alive = [u for u in users if u not in on_dead]
    assert alive and on_dead

    writer = _Writer(app, users)
    writer.start()
    time.sleep(1)
    cluster.kill(port)
    time.sleep(2)
    degraded = [_search(client, u, "tea") for u in on_dead]
    served = [_search(client, u, "tea") for u in alive]
    writer.stop.set()
    writer.join(30)
    assert writer.codes and set(writer.codes) == {201}, writer.codes  # no failed write
    assert {(r["tier"], r.get("degraded")) for r in degraded} == {("L4", True)}
    assert all("Likes tea" in {x["memory"] for x in r["results"]} for r in degraded)
    assert {r["tier"] for r in served} <= {"L2", "L4"} and all(not r.get("degraded") for r in served)
    assert f"127.0.0.1:{port}" in open_breakers(p.redis)
    print(f"\nmaster {port} killed: {len(writer.codes)} writes, all 201; {len(on_dead)} users degraded")

    restarted = time.monotonic()
    cluster.restart(port)  # same port and nodes.conf: the node rejoins with its slots, empty
    assert wait_for(lambda: not open_breakers(p.redis), timeout=15)
    for user in on_dead:
        _search(client, user, "tea")  # a miss (its keys went with the node) that fills L2 again
    assert wait_for(lambda: all(_search(client, u, "tea")["tier"] == "L2" for u in on_dead), timeout=15)
    print(f"recovered {time.monotonic() - restarted:.1f} s after the restart")


def test_the_short_path_commands_name_one_key_first(on_cluster):
    """The commands CacheCluster routes by ``args[1]`` have that one key, by the server's own key specs."""
    from memcache_platform.tiers.lazy_cluster import _FIRST_KEY_ONLY

    client = on_cluster[0].redis.client
    conn = client.get_default_node().redis_connection
    key = "mc:{u}:k"
    for command in sorted(_FIRST_KEY_ONLY):
        keys = client.commands_parser.get_keys(conn, command, key, "mc:{v}:a", "1", "mc:{w}:b", "2")
        assert [k.decode() if isinstance(k, bytes) else k for k in keys] == [key], command
    assert client.commands_parser.get_keys(conn, "DEL", key, "mc:{v}:a") == [
        key,
        "mc:{v}:a",
    ]  # the check bites
