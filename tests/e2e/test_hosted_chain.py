"""The hosted backend end to end: platform A (``hosted``) → latency proxy → platform B (stand-in).

The real ``mem0.MemoryClient`` inside A talks HTTP, through a TCP proxy adding 150 ms to each
request, to B: this platform's Mem0-compatible API with the hosted platform's async mode on
(``MEMCACHE_MEM0_COMPAT_ASYNC_DEFAULT``), serving from the session's Mem0 (local backend). The
chain is ``memcache_platform/dev/hosted_chain.py``, which bench H1 measures too.

Which worker runs A's tasks: the session's Celery worker serves the session platform (local
backend, the session's Redis and L3), so a rebuild or event poll of A sent there would read the
wrong L4. A's tasks run instead in threads of this process (``InlineTasks``), calling the same
service methods as ``tasks.follow_mem0_event`` and ``tasks.update_user_favorite_cache``; a test can
hold them to observe A while its event is pending. B's hand-offs go to the session worker as usual.

Over 400 lines on purpose: one module-scoped chain (two platforms and a proxy) serves every hosted test,
and the async add, its event, read-your-writes while pending, the second bump and strict mode are
steps of one story that a reader should see in one place.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from memcache_platform.dev.hosted_chain import HostedChain
from tests.conftest import ADMIN_KEY, API_KEY
from tests.support.metrics import sample

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def chain(platform, redis_server, postgres_server):  # type: ignore[no-untyped-def]
    built = HostedChain(
        platform.settings,
        platform.mem0,
        api_key=API_KEY,
        redis_url_a=redis_server.url.replace("/0", "/6"),
        database_url_a=postgres_server.create_database("memcache_hosted_a", drop_first=True),
        settings_a={"mem0_event_poll_s": 0.05, "mem0_event_poll_max_s": 0.2},
        serve_a=True,  # an application's own MemoryClient calls A over HTTP
    )
    yield {
        "a": built.a,
        "b": built.b,
        "client": built.app_a.test_client(),
        "tasks": built.tasks,
        "host_a": built.host_a,
        "host_b": built.host_b,
        "chain": built,
    }
    built.close()


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


class HeldStandIn:
    """Occupies every thread of B's event runner, so an add queued at B stays PENDING until ``release``.

    Real background adds of B (``CompatEvents.submit``) that wait on an event: the hosted platform's
    processing time, made as long as the test needs.
    """

    def __init__(self, b: Any, user: str) -> None:
        self.gate = threading.Event()

        def held() -> list[dict[str, Any]]:
            self.gate.wait(30)
            return []

        self.events = [
            b.compat_events.submit(f"{user}-hold", held) for _ in range(b.settings.mem0_compat_async_workers)
        ]

    def release(self) -> None:
        self.gate.set()


def test_a_build_from_before_the_event_ended_is_not_served_after_it(chain, user, wait_for):
    """The second bump: a rebuild read L4 while the add was PENDING there.

    The write's own rebuild defers to the follower (the user has a pending event); a forced one
    builds L3 and warms L2 under the write's watermark from an L4 without the memory.
    Once the event SUCCEEDED and the marker is gone, only the second bump makes that build stale;
    without it the follow-up rebuild finds the user "current" and both keep answering without it.
    """
    from memcache_platform.tiers.l2_results import query_hash

    a, b, client, tasks = chain["a"], chain["b"], chain["client"], chain["tasks"]
    _write(client, user, "I'm good at Rust")
    tasks.finish()
    tasks.rebuilt()
    _search(client, user)  # "drink" becomes a hot query: the next rebuild warms it into L2

    tasks.released.clear()
    held = HeldStandIn(b, user)
    try:
        written = _write(client, user, "My favourite drink is green tea")
        accepted = a.watermarks.current_many([user])[user]
        (handed_off,) = tasks.rebuilds
        tasks.rebuilt()
        assert handed_off.result().outcome == "deferred"  # it leaves the build to the follower
        assert a.l3.get(user).built_from_watermark < accepted
        # A forced rebuild (the warm endpoint) builds anyway, from an L4 that lacks the memory.
        assert a.proactive_cache.update_user_favorite_cache(user, force=True).outcome == "rebuilt"
        assert b.compat_events.get(written["event_ids"][0])["status"] == "PENDING"
    finally:
        held.release()
    assert a.l3.get(user).built_from_watermark == accepted
    state = a.l2.state(user)
    entry = a.l2.get(user, state.generation, query_hash("drink", 10, None))
    assert state.generation_built_from == accepted and entry is not None and entry.watermark == accepted
    assert not any("green tea" in hit["memory"] for hit in entry.results)  # filled while pending

    _settled(b, written["event_ids"], wait_for)
    (outcome,) = tasks.finish()
    assert outcome.status == "SUCCEEDED"
    found = _search(client, user)
    assert found["pending"] is False and any("green tea" in hit["memory"] for hit in found["results"])
    favorites = client.get(f"/v1/users/{user}/favorites", headers=AUTH).json
    assert "green tea" in str(favorites["favorites"]), favorites
    tasks.rebuilt()


def test_a_verbatim_add_is_pending_for_searches_until_its_event_lands(chain, user, wait_for):
    """Mem0's ``infer=False`` add through A's v3 route, from an application's real ``MemoryClient``.

    What a platform in front of A sends. Its event is marked like a v1 write's: while B holds the
    add PENDING, A's searches neither serve the entry warmed before it nor fill one (the hand-off's
    rebuild defers), and a worker follows the event to the second bump, after which it is found.
    """
    from mem0 import MemoryClient

    a, b, client, tasks = chain["a"], chain["b"], chain["client"], chain["tasks"]
    app = MemoryClient(api_key=API_KEY, host=chain["host_a"])
    _write(client, user, "I'm good at Rust")
    tasks.finish()
    tasks.rebuilt()
    assert app.search("drink", filters={"user_id": user})["tier"] == "L4"
    assert app.search("drink", filters={"user_id": user})["tier"] == "L2"  # cached before the add

    tasks.released.clear()
    held = HeldStandIn(b, user)
    try:
        added = app.add("Favourite drink is green tea", user_id=user, infer=False)
        assert added["pending"] is True and len(added["event_ids"]) == 1, added
        (handed_off,) = tasks.rebuilds
        tasks.rebuilt()
        for _ in range(2):  # neither the pre-add entry nor a fill from the L4 that lacks it
            found = app.search("drink", filters={"user_id": user})
            assert found["tier"] == "L4", found
            assert not any("green tea" in hit["memory"] for hit in found["results"])
        assert a.mem0_event_marks.pending(user).keys() == set(added["event_ids"])
        assert handed_off.result().outcome == "deferred"  # it leaves the build to the follower
        assert b.compat_events.get(added["event_ids"][0])["status"] == "PENDING"
    finally:
        held.release()
    _settled(b, added["event_ids"], wait_for)
    (outcome,) = tasks.finish()  # followed to the end, as a v1 write's event
    assert outcome.status == "SUCCEEDED"
    tasks.rebuilt()
    first = app.search("drink", filters={"user_id": user})
    second = app.search("drink", filters={"user_id": user})
    assert second["tier"] == "L2" and any("green tea" in h["memory"] for h in second["results"]), first
    app.client.close()


STRICT = {"Authorization": f"Bearer {ADMIN_KEY}", "X-Write-Mode": "strict"}


def test_strict_waits_for_the_event_then_rebuilds_inline(chain, user):
    """Flow B: answered once the add SUCCEEDED and the tiers were rebuilt from an L4 that has it.

    B holds the add for 0.6 s (longer than A's inline rebuild takes), so a strict write that rebuilt
    without waiting would warm L2 without the memory.
    """
    a, b, client, tasks = chain["a"], chain["b"], chain["client"], chain["tasks"]
    _write(client, user, "I'm good at Rust")
    tasks.finish()
    tasks.rebuilt()
    _search(client, user)  # a hot query, warmed by the inline rebuild
    held = HeldStandIn(b, user)
    threading.Timer(0.6, held.release).start()
    response = client.post(
        f"/v1/users/{user}/memories",
        json={"messages": [{"role": "user", "content": "My favourite drink is green tea"}]},
        headers=STRICT,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["pending"] is False and body["event_ids"] == [] and tasks.follows == []
    (memory,) = body["memories"]
    assert memory["id"] == b.mem0.get(memory["id"], user_id=user).id and "event_id" not in memory
    assert body["cache"]["mode"] == "strict" and body["cache"]["rebuild"]["outcome"] == "rebuilt"
    assert a.l3.get(user).built_from_watermark == body["cache"]["watermark"]
    found = _search(client, user)  # at once, no worker: the strict answer's promise
    assert found["tier"] == "L2" and found["pending"] is False
    assert any("green tea" in hit["memory"] for hit in found["results"])
    status = client.get(f"/v1/users/{user}/cache", headers=AUTH).json
    assert status["mem0_events"] == {"pending": [], "failed": []}


def test_strict_past_its_wait_answers_202_and_hands_off(chain, user, wait_for):
    """An add still queued at the bound: 202 pending, followed by the worker as in flow A."""
    a, b, client, tasks = chain["a"], chain["b"], chain["client"], chain["tasks"]
    tasks.released.clear()
    held = HeldStandIn(b, user)
    a.extraction.strict_event_wait_s = 0.3  # A's platform is this module's: restored below
    try:
        response = client.post(
            f"/v1/users/{user}/memories",
            json={"messages": [{"role": "user", "content": "My favourite drink is oolong"}]},
            headers=STRICT,
        )
    finally:
        a.extraction.strict_event_wait_s = a.settings.mem0_strict_event_wait_s
        held.release()
    assert response.status_code == 202, response.json
    body = response.json
    assert body["pending"] is True and len(body["event_ids"]) == 1 and len(tasks.follows) == 1
    assert body["cache"]["mode"] == "strict" and body["cache"]["handoff"] in ("queued", "coalesced")
    status = client.get(f"/v1/users/{user}/cache", headers=AUTH).json
    assert status["mem0_events"]["pending"] == body["event_ids"]
    _settled(b, body["event_ids"], wait_for)
    (outcome,) = tasks.finish()
    assert outcome.status == "SUCCEEDED"
    assert any("oolong" in hit["memory"] for hit in _search(client, user)["results"])
    tasks.rebuilt()


def test_strict_with_a_failed_event_answers_502_recorded(chain, user, wait_for):
    """The stand-in reports the held add FAILED (``set_status``, as tests do): 502, recorded, unmarked."""
    a, b, client = chain["a"], chain["b"], chain["client"]
    held = HeldStandIn(b, user)

    def fail_it() -> None:
        queued = wait_for(lambda: list(a.mem0_event_marks.pending(user)), 10)
        b.compat_events.set_status(queued[0], "FAILED", detail="quota exceeded")

    threading.Thread(target=fail_it, daemon=True).start()
    try:
        response = client.post(
            f"/v1/users/{user}/memories",
            json={"messages": [{"role": "user", "content": "My favourite drink is yerba mate"}]},
            headers=STRICT,
        )
    finally:
        held.release()
    assert response.status_code == 502, response.json
    error = response.json["error"]
    assert error["code"] == "mem0_event_failed" and "quota exceeded" in error["message"]
    status = client.get(f"/v1/users/{user}/cache", headers=AUTH).json
    assert status["mem0_events"]["pending"] == []
    assert [f["detail"] for f in status["mem0_events"]["failed"]] == ["quota exceeded"]


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


def test_a_v1_write_that_supersedes_updates_through_the_stand_in(chain, user, wait_for):
    """UPDATE through A: MemoryClient.update sends text and metadata; B replaces the metadata.

    The second favourite drink replaces the first (the same memory id): L4 holds the new text and
    the second write's metadata only (the first's caller key is gone, the fact's keys follow the
    text), and A's favourites and search agree with it.
    """
    b, client, tasks = chain["b"], chain["client"], chain["tasks"]

    def write(text: str, metadata: dict[str, Any]) -> dict[str, Any]:
        body = {"messages": [{"role": "user", "content": text}], "metadata": metadata}
        response = client.post(f"/v1/users/{user}/memories", json=body, headers=AUTH)
        assert response.status_code == 201, response.json
        return response.json

    first = write("My favourite drink is green tea", {"source": "onboarding"})
    _settled(b, first["event_ids"], wait_for)  # the hosted platform has it: the next fact supersedes
    tasks.finish()
    (added,) = b.mem0.get_all(user_id=user)
    second = write("My favourite drink is coffee", {"mood": "sleepy"})
    (updated,) = second["memories"]
    assert updated["event"] == "UPDATE" and updated["id"] == added.id and second["pending"] is False
    (stored,) = b.mem0.get_all(user_id=user)
    assert stored.id == added.id and "coffee" in stored.memory
    meta = stored.metadata
    assert meta["mood"] == "sleepy" and "source" not in meta  # replaced, not merged
    assert (meta["category"], meta["topic"], meta["value"]) == ("favorite", "drink", "coffee")

    tasks.rebuilt()
    favorites = client.get(f"/v1/users/{user}/favorites", headers=AUTH).json
    assert favorites["favorites"]["drink"] == ["coffee"], favorites
    found = _search(client, user)
    assert [hit["memory"] for hit in found["results"]] == [stored.memory]


def test_the_stand_in_update_keeps_the_reserved_keys(chain, user, wait_for):
    """Straight to B: Mem0's own keys are refused; the fact's keys follow the text, not the caller."""
    from mem0 import MemoryClient

    client = MemoryClient(api_key=API_KEY, host=chain["host_b"])
    (memory,) = client.add("My favourite colour is red", user_id=user, async_mode=False)["results"]
    response = client.client.put(
        f"/v1/memories/{memory['id']}/", json={"text": "x", "metadata": {"user_id": "someone-else"}}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_metadata"
    updated = client.update(
        memory["id"], text="My favourite colour is blue", metadata={"category": "dislike", "tone": "calm"}
    )
    assert updated["user_id"] == user and updated["categories"] == ["favorite"]
    assert updated["metadata"]["value"] == "blue" and updated["metadata"]["tone"] == "calm"
