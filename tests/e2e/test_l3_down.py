"""L3's PostgreSQL stopped for real (a server apart from L4's): writes and reads go on, rebuilds wait."""

from urllib.parse import urlsplit

import pytest

from config.settings import Settings
from memcache_platform.api import create_app
from memcache_platform.db.migrate import upgrade
from memcache_platform.dev.servers import PostgresServer
from memcache_platform.errors import CacheUnavailable
from memcache_platform.wiring import Platform
from tests.conftest import API_KEY, TEST_VAR

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def split(platform):
    """A platform whose L3 lives in its own PostgreSQL; L4 (Mem0) and Redis are the session's."""
    l3_server = PostgresServer(TEST_VAR / "pg-l3").start()
    url = l3_server.create_database("l3", drop_first=True)
    settings = Settings(database_url=url, mem0_database_url=platform.settings.effective_mem0_database_url)
    upgrade(settings.sqlalchemy_url)
    split_platform = Platform(settings, mem0=platform.mem0)
    assert urlsplit(settings.database_url).query != urlsplit(platform.settings.database_url).query
    yield l3_server, split_platform, create_app(settings, split_platform).test_client()
    l3_server.stop()


def test_l3_stopped(split, user_id):
    l3_server, p, client = split
    body = {"messages": [{"role": "user", "content": "My favourite food is pho"}]}
    assert client.post(f"/v1/users/{user_id}/memories", json=body, headers=AUTH).status_code == 201
    p.proactive_cache.rebuild_now(user_id)
    assert client.get(f"/v1/users/{user_id}/favorites", headers=AUTH).json["tier"] == "L3"

    l3_server.stop()
    try:
        more = {"messages": [{"role": "user", "content": "I'm good at Go"}]}
        assert client.post(f"/v1/users/{user_id}/memories", json=more, headers=AUTH).status_code == 201
        favorites = client.get(f"/v1/users/{user_id}/favorites", headers=AUTH)
        assert favorites.status_code == 200
        assert (favorites.json["tier"], favorites.json["top_skills"]) == ("L4", ["Go"])
        assert client.get(f"/v1/users/{user_id}/search?q=food", headers=AUTH).status_code == 200
        status = client.get(f"/v1/users/{user_id}/cache", headers=AUTH)
        assert (status.status_code, status.json["tiers"]["l3"]) == (200, "unavailable")
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json["checks"]["l3_database"]["ok"]) == (200, False)
        with pytest.raises(CacheUnavailable):  # the task retries this with backoff (tests/integration/tasks)
            p.proactive_cache.rebuild_now(user_id)  # not the coalescing entry: a worker may hold the user
    finally:
        l3_server.start()
    assert p.proactive_cache.rebuild_now(user_id).outcome == "rebuilt"
    favorites = client.get(f"/v1/users/{user_id}/favorites", headers=AUTH).json
    assert (favorites["tier"], favorites["top_skills"], favorites["favorites"]) == (
        "L3",
        ["Go"],
        {"food": ["pho"]},
    )
