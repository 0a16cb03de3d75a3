"""Flow A (async, default) against flow B (strict: the rebuild runs inline before the answer)."""

import pytest

from memcache_platform.api import create_app
from memcache_platform.dev.servers import free_port
from memcache_platform.wiring import Platform
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
PHO = {"messages": [{"role": "user", "content": "My favourite food is pho"}]}


@pytest.fixture
def l3_down_client(platform):
    """A client of an app whose own platform has L3 at a real address where nothing listens.

    A platform of its own, sharing only the session's Mem0: the session platform, which the session
    worker uses meanwhile, is never patched.
    """
    settings = platform.settings.model_copy(
        update={
            "database_url": f"postgresql://postgres@127.0.0.1:{free_port()}/none",
            "mem0_database_url": platform.settings.effective_mem0_database_url,
        }
    )
    variant = Platform(settings, mem0=platform.mem0)
    app = create_app(settings, platform=variant)
    app.config.update(TESTING=True)
    return app.test_client()


def _post(client, user_id, mode, headers=ADMIN):
    return client.post(f"/v1/users/{user_id}/memories", json=PHO, headers=headers | {"X-Write-Mode": mode})


def test_strict_write_answers_after_l3_and_l2_are_rebuilt(client, user_id, platform):
    response = _post(client, user_id, "strict")
    assert response.status_code == 201
    cache = response.json["cache"]
    assert cache["mode"] == "strict"
    assert cache["rebuild"]["outcome"] == "rebuilt"
    assert cache["watermark"] == platform.watermarks.current(user_id)
    # No worker involved: L3 is current the moment the write answered.
    favorites = client.get(f"/v1/users/{user_id}/favorites", headers=ADMIN).json
    assert (favorites["tier"], favorites["favorites"]) == ("L3", {"food": ["pho"]})


def test_strict_write_fails_when_l3_is_down_and_lists_what_was_written(l3_down_client, user_id, platform):
    response = _post(l3_down_client, user_id, "strict")
    assert response.status_code == 503
    error = response.json["error"]
    assert error["code"] == "strict_rebuild_failed"
    assert error["details"]["tier_error"] == "cache_unavailable"
    assert [m["memory"] for m in error["details"]["written"]] == ["Favourite food is pho"]
    assert [r.memory for r in platform.mem0.get_all(user_id=user_id)] == ["Favourite food is pho"]


def test_async_write_succeeds_when_l3_is_down(l3_down_client, user_id, platform):
    response = _post(l3_down_client, user_id, "async")
    assert response.status_code == 201
    assert [r.memory for r in platform.mem0.get_all(user_id=user_id)] == ["Favourite food is pho"]


def test_strict_fails_and_async_succeeds_with_redis_stopped(client, user_id, redis_outage):
    with redis_outage():
        strict = _post(client, user_id, "strict")
        flow_a = _post(client, user_id, "async")
    assert strict.status_code == 503
    assert strict.json["error"]["code"] == "strict_rebuild_failed"
    assert flow_a.status_code == 201


def test_write_mode_override_needs_an_admin_key(client, user_id, auth):
    response = _post(client, user_id, "strict", headers=auth)
    assert response.status_code == 403
    bad = _post(client, user_id, "sometimes")
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "invalid_write_mode")
