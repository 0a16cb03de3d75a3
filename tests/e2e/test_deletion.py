"""Deletion reaches every tier: one memory (read-your-writes, then physically) and a whole user."""

import pytest

from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _post(client, auth, user_id, text):
    body = {"messages": [{"role": "user", "content": text}]}
    return client.post(f"/v1/users/{user_id}/memories", json=body, headers=auth).json


def test_deleted_memory_leaves_every_answer_at_once_and_l3_after_the_rebuild(client, auth, user_id, platform):
    created = _post(client, auth, user_id, "I love pho. I love ramen")["memories"]
    pho = next(m for m in created if m["value"] == "pho")
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    client.get(f"/v1/users/{user_id}/search?q=food", headers=auth)  # now cached in L2
    assert client.delete(f"/v1/users/{user_id}/memories/{pho['id']}", headers=auth).status_code == 204
    # As soon as the delete returned (the watermark moved): in no answer.
    search = client.get(f"/v1/users/{user_id}/search?q=food", headers=auth).json
    assert pho["id"] not in {r["id"] for r in search["results"]}
    favorites = client.get(f"/v1/users/{user_id}/favorites", headers=auth).json
    assert favorites["favorites"] == {"general": ["ramen"]}
    # Physically gone from L3 after the rebuild.
    platform.proactive_cache.rebuild_now(user_id)
    assert pho["id"] not in {f.memory_id for f in platform.l3.facts(user_id)}


def test_admin_erases_a_user_from_every_tier(client, auth, user_id, platform):
    _post(client, auth, user_id, "My favourite food is pho")
    client.get(f"/v1/users/{user_id}/search?q=food", headers=auth)
    platform.proactive_cache.rebuild_now(user_id)
    memory_id = platform.mem0.get_all(user_id=user_id)[0].id
    assert platform.mem0.history(memory_id)  # Mem0 keeps texts in its history file

    assert client.delete(f"/v1/users/{user_id}", headers=auth).status_code == 403  # not an admin key
    response = client.delete(f"/v1/users/{user_id}", headers=ADMIN)
    assert response.status_code == 200
    assert response.json["erased"]["memories"] == 1
    assert response.json["erased"]["redis_keys"] >= 3  # watermark, hot queries, generation, entries

    assert platform.mem0.get_all(user_id=user_id) == []
    assert platform.mem0.history(memory_id) == []
    assert platform.l3.get(user_id) is None and platform.l3.facts(user_id) == []
    assert list(platform.redis.scan_iter(match=f"mc:{{{user_id}}}:*")) == []
    assert user_id not in platform.registry.all_users()
    assert platform.hot_queries.top(user_id, 10) == []
