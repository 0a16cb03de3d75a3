"""``/v1/users/{user_id}/memories`` over the Flask test client, against real Mem0, Redis and PostgreSQL."""

import pytest

pytestmark = pytest.mark.integration

PHO = {"messages": [{"role": "user", "content": "My favourite food is pho and I'm good at Python"}]}


def test_post_writes_facts_with_categories_to_l4(client, auth, user_id, platform):
    response = client.post(
        f"/v1/users/{user_id}/memories", json=PHO | {"metadata": {"app": "demo"}}, headers=auth
    )
    assert response.status_code == 201
    memories = response.json["memories"]
    assert [m["memory"] for m in memories] == ["Favourite food is pho", "Good at Python"]
    stored = {r.id: r for r in platform.mem0.get_all(user_id=user_id)}
    assert set(stored) == {m["id"] for m in memories}
    pho = stored[memories[0]["id"]]
    assert pho.metadata["category"] == "favorite"
    assert pho.metadata["topic"] == "food"
    assert pho.metadata["app"] == "demo"


def test_post_bumps_the_watermark(client, auth, user_id, platform):
    response = client.post(f"/v1/users/{user_id}/memories", json=PHO, headers=auth)
    assert response.json["cache"]["watermark"] == platform.watermarks.current(user_id) > 0


def test_get_lists_and_delete_removes(client, auth, user_id):
    created = client.post(f"/v1/users/{user_id}/memories", json=PHO, headers=auth).json["memories"]
    listed = client.get(f"/v1/users/{user_id}/memories", headers=auth).json
    assert sorted(m["id"] for m in listed["memories"]) == sorted(m["id"] for m in created)
    assert listed["count"] == 2

    assert client.delete(f"/v1/users/{user_id}/memories/{created[0]['id']}", headers=auth).status_code == 204
    remaining = client.get(f"/v1/users/{user_id}/memories", headers=auth).json["memories"]
    assert [m["id"] for m in remaining] == [created[1]["id"]]


def test_delete_of_another_users_memory_is_404_and_keeps_it(client, auth, user_id, platform):
    created = client.post(f"/v1/users/{user_id}/memories", json=PHO, headers=auth).json["memories"]
    response = client.delete(f"/v1/users/someone-else/memories/{created[0]['id']}", headers=auth)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "memory_not_found"
    assert len(platform.mem0.get_all(user_id=user_id)) == 2


def test_session_id_is_stored_as_run_id(client, auth, user_id, platform):
    body = PHO | {"session_id": "chat-1"}
    assert client.post(f"/v1/users/{user_id}/memories", json=body, headers=auth).status_code == 201
    assert {r.run_id for r in platform.mem0.get_all(user_id=user_id)} == {"chat-1"}


def test_messages_without_facts_write_nothing(client, auth, user_id, platform):
    response = client.post(
        f"/v1/users/{user_id}/memories",
        json={"messages": [{"role": "assistant", "content": "How can I help you today?"}]},
        headers=auth,
    )
    assert response.status_code == 201
    assert response.json["memories"] == []
    assert response.json["cache"]["handoff"] == "skipped"
    assert platform.mem0.get_all(user_id=user_id) == []
