"""Global favourites reflect every user's L3 within one sweep, however the users were rebuilt."""

import pytest

pytestmark = pytest.mark.integration


def _built(platform, user: str) -> bool:
    entry = platform.l3.get(user)
    return entry is not None and entry.summary.memory_count > 0


def test_users_rebuilt_only_by_handoffs_show_after_a_quiet_sweep(
    platform, sweep_now, user_id, client, auth, wait_for
):
    # The steps: hand-offs rebuild everyone, so no later sweep has anyone to rebuild.
    for _ in range(4):  # settle what earlier tests left due, so the sweep below is a quiet one
        if sweep_now()["dirty"] == 0:
            break
    topic = f"snack{user_id[-6:]}"
    users = {f"{user_id}-{i}": "mochi" if i < 2 else "churros" for i in range(3)}
    for user, value in users.items():
        body = {"messages": [{"role": "user", "content": f"My favourite {topic} is {value}"}]}
        assert client.post(f"/v1/users/{user}/memories", json=body, headers=auth).status_code == 201
    assert wait_for(lambda: all(_built(platform, u) for u in users), timeout=60)  # the worker's hand-offs

    summary = sweep_now()
    assert summary["rebuilt"] == 0  # quiet: the old rule (refresh only if rebuilt) skipped the view here
    stats = client.get(f"/v1/stats/favorites?topic={topic}", headers=auth).json
    assert stats["topics"] == {topic: [{"value": "mochi", "users": 2}, {"value": "churros", "users": 1}]}
    assert stats["refreshed_at"] is not None
    assert summary["global_view_refresh_ms"] > 0


def test_an_erased_user_leaves_the_stats_after_the_next_sweep(
    platform, sweep_now, user_id, write, client, auth
):
    topic = f"fruit{user_id[-6:]}"
    write(user_id, f"My favourite {topic} is quince")
    platform.proactive_cache.update_user_favorite_cache(user_id)
    sweep_now()
    assert client.get(f"/v1/stats/favorites?topic={topic}", headers=auth).json["topics"] != {}
    platform.erasure.erase(user_id)  # nothing is rebuilt: the user is gone
    sweep_now()
    assert client.get(f"/v1/stats/favorites?topic={topic}", headers=auth).json["topics"] == {}
