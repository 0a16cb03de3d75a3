"""Redis (cache tiers and watermarks) stopped for real: writes, searches and favourites still answer."""

import pytest

pytestmark = pytest.mark.integration


def test_platform_answers_with_redis_stopped(client, auth, user_id, redis_outage, platform):
    client.post(
        f"/v1/users/{user_id}/memories",
        json={"messages": [{"role": "user", "content": "I love pho"}]},
        headers=auth,
    )
    client.get(f"/v1/users/{user_id}/search?q=food", headers=auth)  # cached in L2 and L1
    with redis_outage():
        write = client.post(
            f"/v1/users/{user_id}/memories",
            json={"messages": [{"role": "user", "content": "I love ramen"}]},
            headers=auth,
        )
        search = client.get(f"/v1/users/{user_id}/search?q=food", headers=auth)
        favorites = client.get(f"/v1/users/{user_id}/favorites", headers=auth)
        status = client.get(f"/v1/users/{user_id}/cache", headers=auth)
    assert write.status_code == 201
    assert write.json["cache"]["watermark"] is None
    assert search.status_code == 200
    assert (search.json["tier"], search.json["degraded"]) == ("L4", True)
    assert {r["memory"] for r in search.json["results"]} == {"Likes pho", "Likes ramen"}
    assert favorites.status_code == 200
    assert favorites.json["tier"] == "L4"
    assert favorites.json["favorites"] == {"general": ["ramen", "pho"]}
    assert status.status_code == 200
    assert status.json["tiers"]["redis"] == "unavailable"
