"""End to end: the real ``mem0.MemoryClient``'s batch_update/batch_delete, delete_users/reset and
feedback against the platform over real HTTP (real Mem0, Redis, PostgreSQL and the session's worker).
"""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from tests.conftest import API_KEY, TENANT_KEY
from tests.integration.api.conftest import limited  # noqa: F401 - the fixture
from tests.support.metrics import sample

pytestmark = pytest.mark.integration
MISSING = "00000000-0000-0000-0000-000000000000"


def _serve(app):  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the OS picks a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def host(platform):  # type: ignore[no-untyped-def]
    """The app with the Mem0-compatible blueprint, served over real HTTP."""
    from memcache_platform.api import create_app, mem0_compat

    app = create_app()
    if "mem0_compat" not in app.blueprints:
        app.register_blueprint(mem0_compat.bp)
    server, thread = _serve(app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def connect(host):  # type: ignore[no-untyped-def]
    """``connect(key)``: a real MemoryClient with that key (closed after the test)."""
    from mem0 import MemoryClient

    clients = []

    def _connect(key: str = API_KEY):  # type: ignore[no-untyped-def]
        clients.append(MemoryClient(api_key=key, host=host))
        return clients[-1]

    yield _connect
    for client in clients:
        client.client.close()


def _handoffs() -> float:
    return sum(sample("memcache_handoffs_total", outcome=o) for o in ("queued", "coalesced", "outbox"))


def _texts(platform, user_id):  # type: ignore[no-untyped-def]
    return {r.id: r.memory for r in platform.mem0.get_all(user_id=user_id)}


def test_batch_update_writes_l4_and_hands_off_once_per_user(connect, user_id, platform, celery_worker):
    mem0, other = connect(), f"{user_id}-b"
    pho, python = (
        m["id"]
        for m in mem0.add("My favourite food is pho and I'm good at Python", user_id=user_id)["results"]
    )
    [tea] = [m["id"] for m in mem0.add("My favourite drink is tea", user_id=other)["results"]]
    first = mem0.search("What food do I like?", filters={"user_id": user_id}, top_k=3)
    assert mem0.search("What food do I like?", filters={"user_id": user_id}, top_k=3)["tier"] == "L2"
    assert first["results"][0]["memory"] == "Favourite food is pho"
    marks = {u: platform.watermarks.current(u) for u in (user_id, other)}
    before = _handoffs()

    answer = mem0.batch_update(
        [
            {"memory_id": pho, "text": "My favourite food is ramen"},
            {"memory_id": python, "text": "I'm good at Go"},
            {"memory_id": tea, "text": "My favourite drink is coffee"},
        ]
    )
    assert answer["message"] == "Successfully updated 3 memories" and answer["count"] == 3
    assert set(answer["cache"]) == {user_id, other}
    assert _handoffs() - before == 2  # one per user, not one per memory
    assert all(platform.watermarks.current(u) > marks[u] for u in marks)
    assert _texts(platform, user_id) == {pho: "My favourite food is ramen", python: "I'm good at Go"}
    assert _texts(platform, other) == {tea: "My favourite drink is coffee"}
    assert platform.mem0.get(pho).metadata["value"] == "ramen"  # re-derived, as update does

    # The L2 entry of the old text is stale now: the next search answers the new text.
    after = mem0.search("What food do I like?", filters={"user_id": user_id}, top_k=3)
    assert after["results"][0]["memory"] == "My favourite food is ramen"
    assert "Favourite food is pho" not in str(after["results"])


def test_batch_delete_removes_from_l4_and_from_search(connect, user_id, platform, celery_worker):
    mem0, other = connect(), f"{user_id}-b"
    pho, python = (
        m["id"]
        for m in mem0.add("My favourite food is pho and I'm good at Python", user_id=user_id)["results"]
    )
    [tea] = [m["id"] for m in mem0.add("My favourite drink is tea", user_id=other)["results"]]
    assert mem0.search("food", filters={"user_id": user_id})["results"]
    assert mem0.search("food", filters={"user_id": user_id})["tier"] == "L2"
    before = _handoffs()

    answer = mem0.batch_delete([{"memory_id": pho}, {"memory_id": tea}, {"memory_id": pho}])
    assert answer["message"] == "Successfully deleted 2 memories"  # a repeated id is deleted once
    assert set(answer["cache"]) == {user_id, other}
    assert _handoffs() - before == 2
    assert _texts(platform, user_id) == {python: "Good at Python"}
    assert _texts(platform, other) == {}
    assert pho not in str(mem0.search("food", filters={"user_id": user_id})["results"])


def test_batches_are_refused_whole_for_a_missing_or_another_tenants_memory(connect, user_id, platform):
    from mem0.exceptions import MemoryNotFoundError, ValidationError

    mem0, tenant = connect(), connect(TENANT_KEY)
    mine = f"acme-{uuid.uuid4().hex[:10]}"
    [own] = [m["id"] for m in tenant.add("My favourite drink is tea", user_id=mine)["results"]]
    [theirs] = [m["id"] for m in mem0.add("My favourite food is pho", user_id=user_id)["results"]]

    items = [
        {"memory_id": own, "text": "My favourite drink is mate"},
        {"memory_id": theirs, "text": "Hacked"},
    ]
    with pytest.raises(MemoryNotFoundError, match="memory_not_found"):
        tenant.batch_update(items)
    with pytest.raises(MemoryNotFoundError):
        tenant.batch_delete([{"memory_id": own}, {"memory_id": theirs}])
    with pytest.raises(MemoryNotFoundError):
        mem0.batch_delete([{"memory_id": theirs}, {"memory_id": MISSING}])
    # Nothing was written, not even the items before the refused one.
    assert _texts(platform, mine) == {own: "Favourite drink is tea"}
    assert _texts(platform, user_id) == {theirs: "Favourite food is pho"}

    with pytest.raises(ValidationError, match="unsupported_option: option 'memories.metadata'"):
        mem0.batch_update([{"memory_id": theirs, "text": "x", "metadata": {"a": "b"}}])
    with pytest.raises(ValidationError, match="invalid_memories"):
        mem0.batch_delete([{"memory_id": theirs}] * 101)  # 100 per batch here (1000 at Mem0)
    with pytest.raises(ValidationError, match="invalid_memories"):
        mem0.batch_update([])
    assert _texts(platform, user_id) == {theirs: "Favourite food is pho"}


def test_feedback_is_stored_and_counted(connect, user_id, platform):
    from mem0.exceptions import MemoryNotFoundError

    from memcache_platform.tiers.l3_feedback import FeedbackStore

    mem0 = connect()
    [pho] = [m["id"] for m in mem0.add("My favourite food is pho", user_id=user_id)["results"]]
    counted = sample("memcache_memory_feedback_total", feedback="VERY_NEGATIVE")
    answer = mem0.feedback(pho, feedback="very_negative", feedback_reason="not true anymore")
    assert (answer["memory_id"], answer["feedback"], answer["feedback_reason"]) == (
        pho,
        "VERY_NEGATIVE",
        "not true anymore",
    )
    mem0.feedback(pho)  # no rating at all: Mem0 allows it
    stored = FeedbackStore(platform.l3.engine).of_memory(pho)
    assert [(r["id"], r["user_id"], r["feedback"], r["feedback_reason"]) for r in stored] == [
        (answer["id"], user_id, "VERY_NEGATIVE", "not true anymore"),
        (stored[1]["id"], user_id, None, None),
    ]
    assert sample("memcache_memory_feedback_total", feedback="VERY_NEGATIVE") == counted + 1

    with pytest.raises(MemoryNotFoundError):
        connect(TENANT_KEY).feedback(pho, feedback="POSITIVE")  # another tenant's memory: as if absent
    with pytest.raises(MemoryNotFoundError):
        mem0.feedback(MISSING, feedback="POSITIVE")
    with httpx.Client(base_url=mem0.host, headers={"Authorization": f"Token {API_KEY}"}) as raw:
        bad = raw.post("/v1/feedback/", json={"memory_id": pho, "feedback": "MEH"})
    assert bad.status_code == 400
    assert len(FeedbackStore(platform.l3.engine).of_memory(pho)) == 2


def test_delete_users_erases_the_user_from_every_tier(connect, user_id, platform, celery_worker):
    from mem0.exceptions import AuthenticationError, ValidationError

    from memcache_platform.tiers.l3_feedback import FeedbackStore

    mem0, other = connect(), f"{user_id}-kept"
    [pho] = [m["id"] for m in mem0.add("My favourite food is pho", user_id=user_id)["results"]]
    mem0.add("My favourite drink is tea", user_id=other)
    mem0.search("food", filters={"user_id": user_id})  # an L2 entry and a hot query
    mem0.feedback(pho, feedback="POSITIVE")
    platform.proactive_cache.rebuild_now(user_id)
    assert platform.l3.get(user_id) is not None

    with pytest.raises(AuthenticationError, match="forbidden"):
        connect(TENANT_KEY).delete_users(user_id=user_id)  # not one of the tenant's users
    with pytest.raises(ValidationError, match="unsupported_option: option 'entity_type'"):
        mem0.delete_users(agent_id="bot")
    assert platform.mem0.get_all(user_id=user_id)

    assert mem0.delete_users(user_id=user_id) == {"message": "Entity deleted successfully."}
    assert platform.mem0.get_all(user_id=user_id) == []
    assert platform.mem0.history(pho) == []
    assert platform.l3.get(user_id) is None and platform.l3.facts(user_id) == []
    assert FeedbackStore(platform.l3.engine).of_memory(pho) == []
    assert list(platform.redis.scan_iter(match=f"mc:{{{user_id}}}:*")) == []  # watermark, L2, hot queries
    assert user_id not in platform.registry.all_users()
    assert mem0.search("food", filters={"user_id": user_id})["results"] == []
    assert len(platform.mem0.get_all(user_id=other)) == 1  # only that user


def test_reset_with_a_tenant_key_erases_the_tenants_users_only(connect, user_id, platform):
    mem0, tenant = connect(), connect(TENANT_KEY)
    mine = [f"acme-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in mine:
        tenant.add("My favourite drink is tea", user_id=name)
    mem0.add("My favourite food is pho", user_id=user_id)

    assert tenant.reset()["message"].startswith("Client reset successful")
    assert all(platform.mem0.get_all(user_id=name) == [] for name in mine)
    assert not [u for u in platform.mem0.list_users() if u.startswith("acme-")]
    assert len(platform.mem0.get_all(user_id=user_id)) == 1  # beyond the tenant: untouched


def test_batches_and_feedback_share_the_keys_write_budget_one_count_per_batch(limited, user_id, platform):  # noqa: F811
    from mem0 import MemoryClient
    from mem0.exceptions import RateLimitError

    from memcache_platform.api import mem0_compat

    app, key, _ = limited(rate_limit_writes="2/minute")
    if "mem0_compat" not in app.blueprints:
        app.register_blueprint(mem0_compat.bp)
    server, thread = _serve(app)
    ids = [
        r.id
        for text in ("Likes tea", "Likes pho", "Likes rice")
        for r in platform.mem0.add(text, user_id=user_id)
    ]
    client = MemoryClient(
        api_key=key["Authorization"].removeprefix("Bearer "), host=f"http://127.0.0.1:{server.server_port}"
    )
    try:
        updated = client.batch_update([{"memory_id": i, "text": "Likes coffee"} for i in ids])
        assert updated["count"] == 3  # three memories, one request of the budget
        client.feedback(ids[0], feedback="POSITIVE")  # the second write of the key
        with pytest.raises(RateLimitError) as refused:
            client.batch_delete([{"memory_id": i} for i in ids])
        info = refused.value.debug_info
        assert 0 < info["retry_after"] <= 60
        assert (info["x_ratelimit_limit"], info["x_ratelimit_remaining"]) == ("2", "0")
        assert int(info["x_ratelimit_reset"]) > 0
        assert len(platform.mem0.get_all(user_id=user_id)) == 3  # the refused batch deleted nothing
    finally:
        client.client.close()
        server.shutdown()
        thread.join(timeout=10)
