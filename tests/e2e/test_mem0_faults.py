"""Mem0 slow or unreachable, for real: its PostgreSQL reached through a TCP proxy that delays or drops.

Writes fail within the configured timeout with a clear 503; reads answer from L2/L3 marked stale,
or 503 when nothing is cached; nothing hangs.
"""

import time
from urllib.parse import urlsplit

import pytest

from config.settings import Settings
from memcache_platform.api import create_app
from memcache_platform.dev.tcp_proxy import TcpProxy
from memcache_platform.wiring import Platform
from tests.conftest import API_KEY

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_KEY}"}
TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def proxied(platform, postgres_server):
    """A second platform whose Mem0 reaches PostgreSQL only through the proxy (L3 and Redis direct)."""
    socket_path = next(postgres_server.pgdata.parent.rglob(".s.PGSQL.*"))
    proxy = TcpProxy(socket_path, delay_s=TIMEOUT_S * 3)
    database = urlsplit(platform.settings.database_url).path.lstrip("/")
    settings = Settings(
        mem0_database_url=f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}", mem0_timeout_s=TIMEOUT_S
    )
    # No enqueue: a session worker's rebuild (through the direct connection) would race the staleness.
    proxied_platform = Platform(settings, enqueue=lambda _: None)
    app = create_app(settings, proxied_platform)
    proxied_platform.mem0  # noqa: B018 - build it while the proxy passes
    yield proxy, proxied_platform, app.test_client()
    proxy.close()


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_slow_and_unreachable_mem0(proxied, user_id):
    proxy, p, client = proxied
    other = f"{user_id}-nothing-cached"
    body = {"messages": [{"role": "user", "content": "My favourite food is pho"}]}
    assert client.post(f"/v1/users/{user_id}/memories", json=body, headers=AUTH).status_code == 201
    p.proactive_cache.rebuild_now(user_id)
    assert client.get(f"/v1/users/{user_id}/search?q=food", headers=AUTH).json["tier"] == "L4"
    p.watermarks.bump(user_id)  # a write the caches have not seen yet: everything cached is now stale

    for mode, code in (("delay", "memory_store_timeout"), ("drop", "memory_store_unavailable")):
        proxy.set_mode(mode)
        write, took = _timed(lambda: client.post(f"/v1/users/{user_id}/memories", json=body, headers=AUTH))
        assert (write.status_code, write.json["error"]["code"]) == (503, code)
        assert took < TIMEOUT_S * 2.5  # bounded by the timeout, not by the proxy's delay

        favorites = client.get(f"/v1/users/{user_id}/favorites", headers=AUTH)
        assert favorites.status_code == 200
        assert (favorites.json["tier"], favorites.json["stale"]) == ("L3", True)
        assert favorites.json["favorites"] == {"food": ["pho"]}

        search = client.get(f"/v1/users/{user_id}/search?q=food", headers=AUTH)
        assert search.status_code == 200
        assert (search.json["tier"], search.json["stale"]) == ("L2", True)
        assert search.json["results"][0]["memory"] == "Favourite food is pho"

        cold, took = _timed(lambda: client.get(f"/v1/users/{other}/favorites", headers=AUTH))
        assert (cold.status_code, cold.json["error"]["code"][:12]) == (503, "memory_store")
        assert took < TIMEOUT_S * 2.5
    proxy.set_mode("pass")
    deadline = time.monotonic() + 30  # the pool reconnects by itself once Mem0's database is back
    while client.post(f"/v1/users/{user_id}/memories", json=body, headers=AUTH).status_code != 201:
        assert time.monotonic() < deadline, "writes did not recover after the proxy passed again"
        time.sleep(0.5)
