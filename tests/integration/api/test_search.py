"""``GET /v1/users/{user_id}/search`` and ``GET /v1/users/{user_id}/cache`` over HTTP."""

import time

import pytest

pytestmark = pytest.mark.integration


def _post(client, auth, user_id, text):
    response = client.post(
        f"/v1/users/{user_id}/memories", json={"messages": [{"role": "user", "content": text}]}, headers=auth
    )
    assert response.status_code == 201
    return response.json


def test_search_miss_then_hit_with_tier_header(client, auth, user_id):
    _post(client, auth, user_id, "My favourite food is pho")
    url = f"/v1/users/{user_id}/search?q=what+food&limit=3"
    first = client.get(url, headers=auth)
    second = client.get(url, headers=auth)
    assert first.status_code == second.status_code == 200
    assert (first.json["tier"], first.headers["X-Cache-Tier"]) == ("L4", "L4")
    assert (second.json["tier"], second.headers["X-Cache-Tier"]) == ("L2", "L2")
    assert second.json["results"] == first.json["results"]
    assert second.json["results"][0] | {"score": None} == {
        "id": second.json["results"][0]["id"],
        "memory": "Favourite food is pho",
        "category": "favorite",
        "score": None,
    }


def test_search_reads_your_writes(client, auth, user_id):
    _post(client, auth, user_id, "I love pho")
    url = f"/v1/users/{user_id}/search?q=food&limit=5"
    client.get(url, headers=auth)
    _post(client, auth, user_id, "I love ramen")
    after = client.get(url, headers=auth).json
    assert {r["memory"] for r in after["results"]} == {"Likes pho", "Likes ramen"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "invalid_query"),
        ("q=", "invalid_query"),
        ("q=%20%20", "invalid_query"),
        ("q=" + "x" * 501, "invalid_query"),
        ("q=a%00b", "invalid_query"),
        ("q=food&limit=0", "invalid_limit"),
        ("q=food&limit=51", "invalid_limit"),
        ("q=food&limit=ten", "invalid_limit"),
        ("q=food&limit=-1", "invalid_limit"),
        ("q=food&session_id=has%20space", "invalid_session_id"),
    ],
)
def test_bad_search_parameters(client, auth, user_id, query, code):
    response = client.get(f"/v1/users/{user_id}/search?{query}", headers=auth)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code


def test_search_needs_a_key(client, user_id):
    assert client.get(f"/v1/users/{user_id}/search?q=food").status_code == 401


def test_cache_status_reports_each_tier(client, auth, user_id, platform):
    written = _post(client, auth, user_id, "I love pho")
    client.get(f"/v1/users/{user_id}/search?q=food&limit=3", headers=auth)
    status = client.get(f"/v1/users/{user_id}/cache", headers=auth).json
    assert status["watermark"] == written["cache"]["watermark"]
    assert status["hot_queries"] == [{"query": "food", "limit": 3, "session_id": None}]
    assert status["entries"]["L1"] == 1
    assert status["tiers"] == {"redis": "ok", "l3": "ok"}
    platform.proactive_cache.rebuild_now(user_id)  # not coalesced with the session worker's rebuild
    built = client.get(f"/v1/users/{user_id}/cache", headers=auth).json
    assert built["built_from"] == built["watermark"]
    assert (built["stale"], built["lag_s"]) == (False, 0.0)
    assert built["generation"] >= 1
    assert built["entries"]["L2"] == 1
    assert built["entries"]["L3"] == 1


def test_cache_status_of_a_stale_user_reports_lag(client, auth, user_id, platform, write):
    written_by = time.time()
    write(user_id, "I love pho")  # the watermark's time is taken inside this call
    time.sleep(0.4)  # a lag large enough to tell from 0.0 and from the rounding
    status = client.get(f"/v1/users/{user_id}/cache", headers=auth).json
    asked_at = time.time()
    assert status["stale"] is True
    assert status["built_from"] is None
    # Lag is the time since the unbuilt write: at least the sleep, at most since before the write.
    assert 0.4 <= status["lag_s"] <= asked_at - written_by + 0.01
