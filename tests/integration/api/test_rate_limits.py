"""Rate limits per end user and per API key, and for admin/bulk paths: 429 with the headers clients read.

Each test builds its own app over the session's platform with its own settings (its own keys, so
counters start at zero, and its own budgets; the ``limited`` fixture of tests/conftest.py);
everything else is the real stack.
"""

from __future__ import annotations

import threading

import pytest

from tests.support.round_trips import counted

pytestmark = pytest.mark.integration
HEADERS = ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


_written = iter(range(10**9))


def _write(client, user: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """A new fact each time: a restated one would be a no-op (services/supersede.py), not a write."""
    body = {"messages": [{"role": "user", "content": f"I love tea number {next(_written)}"}]}
    return client.post(f"/v1/users/{user}/memories", json=body, headers=headers)


def test_one_key_writes_for_many_users_far_above_the_old_per_key_limit(limited, user_id):
    app, key, _ = limited()  # the shipped defaults
    client = app.test_client()
    users = [f"{user_id}-{i:02d}" for i in range(60)]
    codes = [_write(client, users[n % 60], key).status_code for n in range(300)]  # 5 per user
    assert codes.count(201) == 300  # the old default, 120/minute per key, refused 180 of them
    last = _write(client, users[0], key)
    assert last.status_code == 201
    assert all(name in last.headers for name in HEADERS[1:])


def test_one_user_over_its_limit_gets_429_while_the_keys_other_users_go_on(limited, user_id, platform):
    app, key, _ = limited(rate_limit_user_writes="3/minute")
    client = app.test_client()
    greedy, others = f"{user_id}-greedy", [f"{user_id}-{i}" for i in range(3)]
    assert [_write(client, greedy, key).status_code for _ in range(3)] == [201, 201, 201]
    refused = _write(client, greedy, key)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) > 0
    assert len(platform.mem0.get_all(user_id=greedy)) == 3  # the refused write did not happen
    assert [_write(client, user, key).status_code for user in others] == [201, 201, 201]
    # Deletes draw on the same user budget as writes; searches have their own.
    memory_id = platform.mem0.get_all(user_id=greedy)[0].id
    assert client.delete(f"/v1/users/{greedy}/memories/{memory_id}", headers=key).status_code == 429
    assert client.get(f"/v1/users/{greedy}/search?q=tea", headers=key).status_code == 200


def test_a_key_has_its_own_budget_over_all_its_users(limited, user_id):
    app, key, _ = limited(rate_limit_writes="4/minute", rate_limit_searches="2/minute")
    client = app.test_client()
    assert [_write(client, f"{user_id}-{i}", key).status_code for i in range(5)] == [201] * 4 + [429]
    searches = [client.get(f"/v1/users/{user_id}-{i}/search?q=tea", headers=key) for i in range(3)]
    assert [s.status_code for s in searches] == [200, 200, 429]  # apart from the writes this key made


def test_admin_and_bulk_paths_share_a_budget_of_their_own(limited, user_id, platform):
    app, key, admin = limited(rate_limit_bulk="2/minute")
    client = app.test_client()
    assert client.post(f"/v1/users/{user_id}/cache/warm", headers=admin).status_code == 202
    assert client.delete(f"/v1/users/{user_id}-gone", headers=admin).status_code == 200
    refused = client.post("/v1/cache/warm-all", headers=admin)  # the third bulk call: nothing enqueued
    assert refused.status_code == 429
    assert all(name in refused.headers for name in HEADERS)
    assert _write(client, user_id, admin).status_code == 201  # writes are not bulk calls
    assert client.post(f"/v1/users/{user_id}/cache/warm", headers=key).status_code == 202  # per key


@pytest.fixture
def mem0_host(limited):  # type: ignore[no-untyped-def]
    """The Mem0-compatible API of an app with 2 writes per user, over real HTTP, and its key."""
    from werkzeug.serving import make_server

    app, key, _ = limited(rate_limit_user_writes="2/minute")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", key["Authorization"].removeprefix("Bearer ")
    server.shutdown()
    thread.join(timeout=10)


def test_the_mem0_add_route_honours_the_user_limit_with_the_headers_memoryclient_reads(mem0_host, user_id):
    from mem0 import MemoryClient
    from mem0.exceptions import RateLimitError

    host, key = mem0_host
    client = MemoryClient(api_key=key, host=host)
    try:
        for tea in ("green tea", "black tea"):  # new facts: a restated one would add nothing
            assert client.add([{"role": "user", "content": f"I love {tea}"}], user_id=user_id)["results"]
        with pytest.raises(RateLimitError) as refused:
            client.add([{"role": "user", "content": "I love white tea"}], user_id=user_id)
        info = refused.value.debug_info
        assert 0 < info["retry_after"] <= 60
        assert (info["x_ratelimit_limit"], info["x_ratelimit_remaining"]) == ("2", "0")
        assert int(info["x_ratelimit_reset"]) > 0
        # The user is named in the body here: another user of the same key still writes.
        assert client.add([{"role": "user", "content": "I love tea"}], user_id=f"{user_id}-other")["results"]
    finally:
        client.client.close()


def test_all_the_limits_of_a_request_cost_one_redis_round_trip_headers_included(
    limited, user_id, monkeypatch
):
    from memcache_platform.api.ratelimit import limiter

    app, key, _ = limited()  # writes: the user's 10/second and 300/minute, the key's 6000/minute
    client = app.test_client()
    _write(client, user_id, key)  # scripts loaded and connections open before counting
    with counted(monkeypatch) as trips:
        response = _write(client, user_id, key)
    assert response.status_code == 201
    assert response.headers["X-RateLimit-Limit"] == "10"  # the tightest limit's figures
    limiter_db = limiter.storage.get_connection().connection_pool.connection_kwargs["db"]
    # One pipeline of the three counters; before: one EVALSHA per limit, in turn.
    assert [t.commands for t in trips if t.db == limiter_db] == [["EVALSHA"] * 3]


def test_a_count_the_refusing_check_never_reached_is_handed_back(limited, user_id):
    # The user's minute sorts before the key's hour: Flask-Limiter refuses on the user's limit and
    # never checks the key's, so the key's count sent ahead in the pipeline must be taken back.
    app, key, _ = limited(rate_limit_user_searches="1/minute", rate_limit_searches="3/hour")
    client = app.test_client()
    users = [f"{user_id}-a", f"{user_id}-a", f"{user_id}-b", f"{user_id}-c", f"{user_id}-d"]
    codes = [client.get(f"/v1/users/{u}/search?q=tea", headers=key).status_code for u in users]
    assert codes == [200, 429, 200, 200, 429]  # without the refund, c was refused: the key at 4 of 3


def _batch(client, user: str, headers: dict[str, str], n: int):  # type: ignore[no-untyped-def]
    records = [{"memory": f"Owns bike number {next(_written)}"} for _ in range(n)]
    return client.post(f"/v1/users/{user}/memories/batch", json={"records": records}, headers=headers)


def test_a_batch_costs_its_records_against_the_keys_write_budget(limited, user_id):
    app, key, _ = limited(rate_limit_writes="5/minute")
    client = app.test_client()
    assert _batch(client, f"{user_id}-a", key, 3).status_code == 200
    refused = _batch(client, f"{user_id}-b", key, 3)  # 6 records > 5, though only the second request
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "5"


def test_a_batch_is_one_request_against_the_users_write_budget(limited, user_id):
    app, key, _ = limited(rate_limit_user_writes="2/minute")
    client = app.test_client()
    assert [_batch(client, user_id, key, 5).status_code for _ in range(2)] == [200, 200]
    assert _batch(client, user_id, key, 1).status_code == 429
