"""Durable dirty marks against the real PostgreSQL: written by outbox hand-offs, answered by rebuilds.

Faults are real: PostgreSQL refused (a closed port) or hung (a TCP proxy that holds every byte).
"""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from memcache_platform.dev.servers import free_port
from memcache_platform.dev.tcp_proxy import TcpProxy
from memcache_platform.services.dirty_marks import DirtyMarker
from memcache_platform.services.summary import FavoriteSummary
from memcache_platform.tiers.l3_store import L3Build, L3Store
from tests.support.metrics import sample

pytestmark = pytest.mark.integration


def _empty_build(user_id: str, built_at: datetime) -> L3Build:
    return L3Build(user_id, [], FavoriteSummary(), built_at, None, "fp", 1.0)


def _failed() -> float:
    return sample("memcache_dirty_marks_total", result="failed")


def test_a_mark_is_upserted_at_now_and_moves_forward(platform, user_id):
    marker = DirtyMarker(platform.l3, timeout_s=1.0)
    assert marker(user_id)
    first = platform.l3.dirty_marks()[user_id]
    assert abs((datetime.now(UTC) - first).total_seconds()) < 5
    assert marker(user_id)
    assert platform.l3.dirty_marks()[user_id] > first  # one row per user, newest write wins


def test_a_build_that_read_l4_after_the_mark_deletes_it_an_older_read_does_not(platform, user_id):
    DirtyMarker(platform.l3, timeout_s=1.0)(user_id)
    marked_at = platform.l3.dirty_marks()[user_id]
    platform.l3.replace_user(_empty_build(user_id, marked_at - timedelta(seconds=1)))
    assert user_id in platform.l3.dirty_marks()  # that read may have missed the write
    platform.l3.replace_user(_empty_build(user_id, marked_at + timedelta(microseconds=1)))
    assert user_id not in platform.l3.dirty_marks()


def test_erasing_a_user_deletes_the_mark(platform, user_id):
    DirtyMarker(platform.l3, timeout_s=1.0)(user_id)
    platform.l3.delete_user(user_id)
    assert user_id not in platform.l3.dirty_marks()


def test_postgresql_refused_costs_the_write_little_and_is_counted(user_id):
    dead = L3Store.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    before = _failed()
    started = time.monotonic()
    assert DirtyMarker(dead, timeout_s=0.3)(user_id) is False
    assert time.monotonic() - started < 0.5
    assert _failed() == before + 1


def test_postgresql_hung_costs_the_write_at_most_the_timeout(platform, postgres_server, user_id):
    socket_path = next(postgres_server.pgdata.parent.rglob(".s.PGSQL.*"))
    proxy = TcpProxy(socket_path, delay_s=5)
    database = urlsplit(platform.settings.database_url).path.lstrip("/")
    hung = L3Store.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{database}")
    try:
        marker = DirtyMarker(hung, timeout_s=0.3)
        assert marker(user_id)  # passes while the proxy does
        proxy.set_mode("delay")
        before = _failed()
        started = time.monotonic()
        assert marker(user_id) is False
        assert time.monotonic() - started < 0.5
        assert _failed() == before + 1
    finally:
        proxy.close()
        hung.engine.dispose()


def test_a_write_during_a_redis_outage_is_marked_and_the_rebuild_answers_the_mark(
    platform, client, auth, user_id, redis_outage, celery_worker, wait_for
):
    with redis_outage():
        response = client.post(
            f"/v1/users/{user_id}/memories",
            json={"messages": [{"role": "user", "content": "My favourite tea is sencha"}]},
            headers=auth,
        )
        assert (response.status_code, response.json["cache"]["handoff"]) == (201, "outbox")
        assert user_id in platform.l3.dirty_marks()  # durable before the write answered
    # The outbox redelivered on Redis's return; the worker's rebuild deleted the mark it answered.
    assert wait_for(lambda: user_id not in platform.l3.dirty_marks(), timeout=60)
    assert platform.l3.get(user_id).summary.memory_count == 1
