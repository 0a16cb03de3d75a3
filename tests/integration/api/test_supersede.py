"""Facts that supersede, through the API against real Mem0, Redis and PostgreSQL: favourites, L3 rows,
search and Mem0's history agree after each sequence (the rules: services/supersede.py)."""

import pytest

pytestmark = pytest.mark.integration


def _say(client, auth, user_id: str, text: str):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/users/{user_id}/memories", json={"messages": [{"role": "user", "content": text}]}, headers=auth
    )
    assert response.status_code == 201, response.json
    return response.json


def _rebuilt(platform, user_id: str) -> None:  # type: ignore[no-untyped-def]
    # Inline, not coalesced: the session worker may be rebuilding the same user from the hand-off.
    platform.proactive_cache.rebuild_now(user_id)


def test_a_favourite_number_restated_ten_times_is_one_memory_with_its_history(
    client, auth, user_id, platform
):
    answers = [_say(client, auth, user_id, f"My favorite number is {n}") for n in range(10)]
    assert [a["memories"][0]["event"] for a in answers] == ["ADD"] + ["UPDATE"] * 9
    (memory,) = platform.mem0.get_all(user_id=user_id)  # L4: one favourite number
    assert memory.memory == "Favourite number is 9" and memory.metadata["value"] == "9"
    assert {a["memories"][0]["id"] for a in answers} == {memory.id}
    history = platform.mem0.history(memory.id)  # Mem0 keeps every earlier value
    assert [h["event"] for h in history] == ["ADD"] + ["UPDATE"] * 9
    assert [h.get("new_memory") for h in history][-1] == "Favourite number is 9"

    _rebuilt(platform, user_id)
    favourites = client.get(f"/v1/users/{user_id}/favorites", headers=auth).json
    assert (favourites["tier"], favourites["favorites"]) == ("L3", {"number": ["9"]})
    assert [(f.topic, f.value) for f in platform.l3.facts(user_id)] == [("number", "9")]
    hits = client.get(
        f"/v1/users/{user_id}/search", query_string={"q": "favourite number"}, headers=auth
    ).json
    assert [h["memory"] for h in hits["results"]] == ["Favourite number is 9"]


def test_a_restated_fact_is_a_no_op_that_hands_nothing_off(client, auth, user_id, platform):
    first = _say(client, auth, user_id, "I live in Lisbon. I love pho")
    watermark = platform.watermarks.current(user_id)
    again = _say(client, auth, user_id, "I live in Lisbon and I love Pho")
    assert [m["event"] for m in again["memories"]] == ["NONE", "NONE"]
    assert [m["id"] for m in again["memories"]] == [m["id"] for m in first["memories"]]
    assert again["cache"]["handoff"] == "skipped"
    assert platform.watermarks.current(user_id) == watermark  # nothing changed: nothing invalidated
    assert len(platform.mem0.get_all(user_id=user_id)) == 2


def test_taking_a_like_back_removes_it_everywhere(client, auth, user_id, platform):
    _say(client, auth, user_id, "I love sushi and ramen")
    _rebuilt(platform, user_id)
    sushi = next(r for r in platform.mem0.get_all(user_id=user_id) if r.memory == "Likes sushi")
    taken_back = _say(client, auth, user_id, "I don't like sushi anymore")
    assert [(m["event"], m["id"]) for m in taken_back["memories"]] == [("DELETE", sushi.id)]
    assert [r.memory for r in platform.mem0.get_all(user_id=user_id)] == ["Likes ramen"]
    assert [h["event"] for h in platform.mem0.history(sushi.id)] == ["ADD", "DELETE"]
    # Until the rebuild, favourites come from L4 (L3 is behind the watermark), and agree already.
    assert client.get(f"/v1/users/{user_id}/favorites", headers=auth).json["favorites"] == {
        "general": ["ramen"]
    }
    _rebuilt(platform, user_id)
    favourites = client.get(f"/v1/users/{user_id}/favorites", headers=auth).json
    assert (favourites["tier"], favourites["favorites"]) == ("L3", {"general": ["ramen"]})
    assert [f.value for f in platform.l3.facts(user_id)] == ["ramen"]
    hits = client.get(f"/v1/users/{user_id}/search", query_string={"q": "sushi"}, headers=auth).json
    assert "Likes sushi" not in [h["memory"] for h in hits["results"]]


def test_a_new_employer_replaces_the_old_one_and_likes_accumulate(client, auth, user_id, platform):
    _say(client, auth, user_id, "I work at Acme. I love tea")
    _say(client, auth, user_id, "I work at Globex. I love coffee")
    assert sorted(r.memory for r in platform.mem0.get_all(user_id=user_id)) == [
        "Likes coffee",
        "Likes tea",
        "Works at Globex",
    ]
    _rebuilt(platform, user_id)
    favourites = client.get(f"/v1/users/{user_id}/favorites", headers=auth).json
    assert favourites["profile"]["employer"] == "Globex"
    assert sorted(favourites["favorites"]["general"]) == ["coffee", "tea"]
