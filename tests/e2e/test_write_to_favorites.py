"""End to end: a memory written over HTTP shows in the favourites once the real worker rebuilt L3."""

import pytest

pytestmark = pytest.mark.integration


def test_favourites_rebuilt_by_worker_after_write(client, auth, user_id, celery_worker, platform, wait_for):
    response = client.post(
        f"/v1/users/{user_id}/memories",
        json={"messages": [{"role": "user", "content": "My favourite food is pho and I'm good at Python"}]},
        headers=auth,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert [(m["category"], m.get("value")) for m in body["memories"]] == [
        ("favorite", "pho"),
        ("skill", "Python"),
    ]
    assert body["cache"]["handoff"] == "queued"

    # The worker, not the request, builds L3: wait until its row exists.
    assert wait_for(
        lambda: (e := platform.l3.get(user_id)) and e.built_from_watermark == body["cache"]["watermark"]
    )

    favorites = client.get(f"/v1/users/{user_id}/favorites", headers=auth)
    assert favorites.status_code == 200
    assert favorites.json["tier"] == "L3"
    assert favorites.headers["X-Cache-Tier"] == "L3"
    assert favorites.json["stale"] is False
    assert favorites.json["favorites"] == {"food": ["pho"]}
    assert favorites.json["top_skills"] == ["Python"]
