"""The hosted backend end to end: platform A (``hosted``) → latency proxy → platform B (stand-in).

The real ``mem0.MemoryClient`` inside A talks HTTP, through a TCP proxy adding 150 ms to each
request, to B: this platform's Mem0-compatible API with the hosted platform's async mode on
(``MEMCACHE_MEM0_COMPAT_ASYNC_DEFAULT``), serving from the session's Mem0 (local backend).

Which worker runs A's tasks: the session's Celery worker serves the session platform (local
backend, the session's Redis and L3), so a rebuild or event poll of A sent there would read the
wrong L4. A's tasks run instead in threads of this process (``InlineTasks``), calling the same
service methods as ``tasks.follow_mem0_event`` and ``tasks.update_user_favorite_cache``; a test can
hold them to observe A while its event is pending. B's hand-offs go to the session worker as usual.
A keeps its own Redis database and L3 database, so A's and B's cache tiers never mix.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from typing import Any

import pytest

from tests.conftest import API_KEY
from tests.support.metrics import sample
from tests.support.tcp_proxy import TcpProxy

AUTH = {"Authorization": f"Bearer {API_KEY}"}


class InlineTasks:
    """Platform A's task queue: its rebuilds and event polls, run in threads here (see the docstring)."""

    def __init__(self) -> None:
        self.platform: Any = None
        self.released = threading.Event()
        self.released.set()
        self.follows: list[concurrent.futures.Future[Any]] = []
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="platform-a")

    def enqueue_rebuild(self, user_id: str, *, force: bool = False) -> str:
        self._pool.submit(self.platform.proactive_cache.update_user_favorite_cache, user_id, force=force)
        return "inline"

    def enqueue_follow_event(self, user_id: str, event_id: str, accepted_at: float) -> str:
        def follow() -> Any:
            self.released.wait(60)  # a held "worker": the event stays pending for A meanwhile
            return self.platform.mem0_events.follow(user_id, event_id, accepted_at, time.sleep)

        self.follows.append(self._pool.submit(follow))
        return "inline"

    def finish(self) -> list[Any]:
        """Release the held polls and wait for every one of them; their outcomes."""
        self.released.set()
        outcomes = [f.result(timeout=30) for f in self.follows]
        self.follows.clear()
        return outcomes


def _serve(app: Any) -> tuple[Any, int]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


@pytest.fixture(scope="module")
def chain(platform, redis_server, postgres_server):  # type: ignore[no-untyped-def]
    from memcache_platform.api import create_app
    from memcache_platform.db.migrate import upgrade
    from memcache_platform.wiring import Platform

    base = platform.settings
    b = Platform(base.model_copy(update={"mem0_compat_async_default": True}), mem0=platform.mem0)
    server_b, port_b = _serve(create_app(b.settings, platform=b))
    proxy = TcpProxy(("127.0.0.1", port_b), latency_s=0.15)
    proxy.set_mode("latency")
    db_a = postgres_server.create_database("memcache_hosted_a", drop_first=True)
    settings_a = base.model_copy(
        update={
            "mem0_backend": "hosted",
            "mem0_api_key": API_KEY,
            "mem0_host": f"http://127.0.0.1:{proxy.port}",
            "redis_url": redis_server.url.replace("/0", "/6"),
            "database_url": db_a,
            "mem0_event_poll_s": 0.05,
            "mem0_event_poll_max_s": 0.2,
        }
    )
    upgrade(settings_a.sqlalchemy_url)
    tasks = InlineTasks()
    a = Platform(settings_a, task_queue=tasks)  # type: ignore[arg-type]
    tasks.platform = a
    app_a = create_app(settings_a, platform=a)
    yield {
        "a": a,
        "b": b,
        "client": app_a.test_client(),
        "tasks": tasks,
        "host_b": f"http://127.0.0.1:{port_b}",
    }
    proxy.close()
    server_b.shutdown()


@pytest.fixture
def user() -> str:
    return f"hosted-{uuid.uuid4().hex[:10]}"


def _search(client: Any, user: str, q: str = "drink") -> dict[str, Any]:
    response = client.get(f"/v1/users/{user}/search", query_string={"q": q}, headers=AUTH)
    assert response.status_code == 200, response.json
    return response.json


def _write(client: Any, user: str, text: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/users/{user}/memories", json={"messages": [{"role": "user", "content": text}]}, headers=AUTH
    )
    assert response.status_code == 201, response.json
    return response.json


def _settled(b: Any, event_ids: list[str], wait_for: Any) -> None:
    assert wait_for(lambda: all(b.compat_events.get(e)["status"] == "SUCCEEDED" for e in event_ids), 20)


def test_the_stand_in_queues_adds_as_the_hosted_platform(chain, user, wait_for):
    """B alone, through the real client: PENDING + event_id, then GET /v1/event/{id}/ SUCCEEDED."""
    from mem0 import MemoryClient

    client = MemoryClient(api_key=API_KEY, host=chain["host_b"])
    answer = client.add("My favourite drink is mint tea", user_id=user)
    (queued,) = answer["results"]
    assert queued["status"] == "PENDING" and queued["event_id"] and "id" not in queued

    def event() -> dict[str, Any]:
        return client.client.get(f"/v1/event/{queued['event_id']}/").json()

    done = wait_for(lambda: (e := event())["status"] == "SUCCEEDED" and e, 20)
    assert done, event()
    (result,) = done["results"]
    assert result["event"] == "ADD" and "mint tea" in result["data"]["memory"]
    assert client.get(result["id"])["memory"] == result["data"]["memory"]
    sync = client.add("I live in Hue", user_id=user, async_mode=False)  # explicit: written at once
    assert sync["results"][0]["id"] and sync["results"][0]["event"] == "ADD"
    assert client.client.get(f"/v1/event/{uuid.uuid4()}/").status_code == 404


def test_an_accepted_write_is_pending_then_followed_to_a_rebuild(chain, user, wait_for):
    """201 pending with the event id; L2 bypassed and not filled while pending; rebuilt after SUCCEEDED."""
    a, b, client, tasks = chain["a"], chain["b"], chain["client"], chain["tasks"]
    _write(client, user, "I'm good at Rust")
    tasks.finish()
    assert _search(client, user)["tier"] == "L4"
    assert _search(client, user)["tier"] == "L2"  # cached before the write
    before = a.watermarks.current_many([user])[user]

    tasks.released.clear()  # hold A's worker: the event stays pending for A
    written = _write(client, user, "My favourite drink is green tea")
    assert written["pending"] is True and len(written["event_ids"]) == 1
    (memory,) = written["memories"]
    assert memory["id"] is None and memory["event_id"] == written["event_ids"][0]
    accepted = a.watermarks.current_many([user])[user]
    assert accepted > before  # handed off at once
    status = client.get(f"/v1/users/{user}/cache", headers=AUTH).json
    assert status["mem0_events"]["pending"] == written["event_ids"]

    _settled(b, written["event_ids"], wait_for)  # B has it now; A has not seen the event end
    for _ in range(2):  # read-your-writes while pending: never the pre-write entry, never a fill
        found = _search(client, user)
        assert found["tier"] == "L4" and found["pending"] is True
        assert any("green tea" in hit["memory"] for hit in found["results"])

    (outcome,) = tasks.finish()
    assert outcome.status == "SUCCEEDED" and outcome.watermark > accepted  # bumped again
    status = client.get(f"/v1/users/{user}/cache", headers=AUTH).json
    assert status["mem0_events"] == {"pending": [], "failed": []}
    assert wait_for(lambda: (e := a.l3.get(user)) and e.built_from_watermark >= outcome.watermark, 20)
    favorites = client.get(f"/v1/users/{user}/favorites", headers=AUTH).json
    assert "green tea" in str(favorites["favorites"])
    first, second = _search(client, user), _search(client, user)
    assert first["pending"] is False and second["tier"] == "L2"
    assert any("green tea" in hit["memory"] for hit in second["results"])


def test_the_mem0_compatible_add_of_a_answers_201_pending(chain, user, wait_for):
    a, client, tasks = chain["a"], chain["client"], chain["tasks"]
    response = client.post(
        "/v3/memories/add/",
        json={"messages": [{"role": "user", "content": "I live in Hanoi"}], "user_id": user},
        headers={"Authorization": f"Token {API_KEY}"},
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["pending"] is True and body["results"][0]["event_id"] == body["event_ids"][0]
    assert body["results"][0]["id"] is None
    (outcome,) = tasks.finish()
    assert outcome.status == "SUCCEEDED"
    assert ["Hanoi" in m.memory for m in a.mem0.get_all(user_id=user)] == [True]


def test_a_failed_event_is_recorded_not_dropped(chain, user):
    """B's background add fails for real (its L4 call raises); A records the FAILED event it polls.

    The event is submitted to B's event runner directly, with a write that fails in B's L4 (a get
    of a memory that does not exist): B's Mem0 cannot be made to fail one ordinary add.
    """
    a, b, client, tasks = chain["a"], chain["b"], chain["client"], chain["tasks"]
    missing = str(uuid.uuid4())
    event_id = b.compat_events.submit(user, lambda: [b.mem0.get(missing, user_id=user)])
    failed_before = sample("memcache_mem0_events_total", outcome="failed")
    watermark = a.watermarks.current_many([user])[user]
    a.mem0_events.accepted(user, [event_id])  # as A's write path does for an accepted add
    (outcome,) = tasks.finish()
    assert outcome.status == "FAILED"
    assert sample("memcache_mem0_events_total", outcome="failed") == failed_before + 1
    status = client.get(f"/v1/users/{user}/cache", headers=AUTH).json
    (failure,) = status["mem0_events"]["failed"]
    assert failure["event_id"] == event_id and failure["status"] == "FAILED"
    assert "not found" in failure["detail"]
    assert status["mem0_events"]["pending"] == []  # the user's L2 works again
    assert a.watermarks.current_many([user])[user] > watermark


def test_delete_through_a(chain, user):
    b, client, tasks = chain["b"], chain["client"], chain["tasks"]
    _write(client, user, "My favourite drink is coffee")
    tasks.finish()
    (memory,) = client.get(f"/v1/users/{user}/memories", headers=AUTH).json["memories"]
    assert _search(client, user)["results"][0]["id"] == memory["id"]
    response = client.delete(f"/v1/users/{user}/memories/{memory['id']}", headers=AUTH)
    assert response.status_code == 204, response.json
    assert b.mem0.get_all(user_id=user) == []  # gone from the hosted side
    assert _search(client, user)["results"] == []
