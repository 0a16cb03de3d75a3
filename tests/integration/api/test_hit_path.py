"""An L2 hit over HTTP costs at most two Redis round trips with the limits on, one with them off;
with them off it runs no Flask-Limiter code, and it sends the results text Redis holds.

The round trips are counted on the real connections (tests/support/round_trips.py); the app is the
real one over the session's platform, with the shipped rate limits (``limited``, conftest.py).
"""

from __future__ import annotations

import pytest

from memcache_platform.tiers.l2_results import L2Entry
from tests.support.round_trips import Trip, counted

pytestmark = pytest.mark.integration


def _warmed(app, key, user_id, write, text="My favourite food is pho"):  # type: ignore[no-untyped-def]
    """A test client and a search URL of the user past a miss and a first hit (connections open,
    scripts loaded): the next search of the URL is an L2 hit."""
    write(user_id, text)
    client = app.test_client()
    url = f"/v1/users/{user_id}/search?q=what+do+I+eat&limit=3"
    assert [client.get(url, headers=key).json["tier"] for _ in range(2)] == ["L4", "L2"]
    return client, url


def _hit_trips(app, key, user_id, write, monkeypatch) -> list[Trip]:  # type: ignore[no-untyped-def]
    """The round trips of one L2 hit."""
    client, url = _warmed(app, key, user_id, write)
    with counted(monkeypatch) as trips:
        response = client.get(url, headers=key)
    assert response.status_code == 200
    assert response.json["tier"] == "L2"
    assert response.json["results"][0]["memory"] == "Favourite food is pho"
    return trips


def test_an_l2_hit_with_the_default_limits_costs_two_round_trips(
    limited, user_id, write, monkeypatch, platform
):
    app, key, _ = limited()  # the shipped budgets: the user's 20/second and 600/minute, the key's
    trips = _hit_trips(app, key, user_id, write, monkeypatch)
    # One pipeline of the three limit counters (limiter database), one lookup script on the user's slot.
    assert sorted((t.db == platform.redis.get_connection_kwargs()["db"], t.commands) for t in trips) == [
        (False, ["EVALSHA"] * 3),
        (True, ["EVALSHA"]),
    ], trips


def test_an_l2_hit_without_limits_costs_one_round_trip(limited, user_id, write, monkeypatch):
    app, key, _ = limited(rate_limit_enabled=False)
    trips = _hit_trips(app, key, user_id, write, monkeypatch)
    assert [t.commands for t in trips] == [
        ["EVALSHA"]
    ]  # watermark, generation, pending flag, entry and hot-query record


def test_with_limits_off_a_hit_skips_flask_limiter(limited, user_id, write, monkeypatch):
    """Limits off: the limit decorators go straight to the view, Flask-Limiter runs no check."""
    from memcache_platform.api.ratelimit import limiter

    app, key, _ = limited(rate_limit_enabled=False)
    client, url = _warmed(app, key, user_id, write)
    calls: list[str] = []
    # A spy, not a fault: Flask-Limiter starts every check of a request by identifying its endpoint.
    monkeypatch.setattr(limiter, "identify_request", lambda: calls.append("identify") or "search.search")
    assert client.get(url, headers=key).json["tier"] == "L2"
    assert client.get("/healthz").status_code == 200
    assert calls == []


def test_an_l2_hit_sends_the_stored_results_text_as_it_is(limited, user_id, write, platform):
    """No decode and re-encode of a hit's results: the body holds Redis's bytes (UTF-8, where
    Flask's own JSON would escape the "ở" as \\u1edf)."""
    app, key, _ = limited(rate_limit_enabled=False)
    client, url = _warmed(app, key, user_id, write, "My favourite food is phở")
    (entry_key,) = platform.redis.keys(f"mc:{{{user_id}}}:g*:q:*")
    stored = L2Entry.loads(platform.redis.get(entry_key)).hits.json
    response = client.get(url, headers=key)
    assert response.json["tier"] == "L2"
    assert response.data.endswith(b',"results":' + stored + b"}")
    assert response.json["results"][0]["memory"] == "Favourite food is phở"
