"""``tasks.update_user_favorite_cache`` through the real broker and worker."""

import pytest

from tasks import update_user_favorite_cache

pytestmark = pytest.mark.integration


def test_task_rebuilds_and_reports(platform, celery_worker, user_id, write):
    write(user_id, "I'm good at Python")
    result = update_user_favorite_cache.delay(user_id, force=True).get(timeout=30)
    assert result["user_id"] == user_id
    assert result["memories"] == 1
    assert result["categories"] == {"skill": 1}
    assert result["l3_written"] is True
    assert result["outcome"] == "rebuilt"
    assert platform.l3.get(user_id).summary.top_skills == ["Python"]


def test_task_options_make_redelivery_safe():
    assert update_user_favorite_cache.acks_late is True
    assert update_user_favorite_cache.name == "tasks.update_user_favorite_cache"


def test_bad_user_id_fails_clearly(celery_worker):
    from memcache_platform.errors import InvalidInput

    with pytest.raises(InvalidInput):
        update_user_favorite_cache.delay("not a valid id").get(timeout=30)


def test_task_retries_while_l3_is_down_then_succeeds(platform, celery_worker, user_id, monkeypatch, write):
    import threading

    from memcache_platform.dev.servers import free_port
    from memcache_platform.tiers.l3_store import L3Store

    write(user_id, "I love tea")
    # L3 "down": the rebuild talks to a real PostgreSQL URL where nothing listens, for about 1 s.
    live = platform.proactive_cache.l3
    monkeypatch.setattr(
        platform.proactive_cache,
        "l3",
        L3Store.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"),
    )
    heal = threading.Timer(1.0, lambda: setattr(platform.proactive_cache, "l3", live))
    heal.start()
    result = update_user_favorite_cache.delay(user_id, force=True)
    try:
        assert result.get(timeout=60)["memories"] == 1
    finally:
        heal.cancel()
    assert result.retries >= 1  # it failed at least once, retried with backoff, then succeeded
    assert platform.l3.get(user_id).summary.favorites == {"general": ["tea"]}


def test_the_same_rebuild_delivered_twice_leaves_the_same_state_as_once(
    platform, celery_worker, user_id, write
):
    write(user_id, "My favourite food is pho. I'm good at Python")
    platform.search.search(user_id, "food", limit=3)
    once = update_user_favorite_cache.apply_async(args=[user_id], kwargs={"force": True}).get(timeout=30)
    state_once = (platform.l3.facts(user_id), platform.l3.get(user_id).summary, platform.l2.state(user_id))
    # The same message again, with the same task id, as a redelivery would bring it.
    twice = update_user_favorite_cache.apply_async(
        args=[user_id], kwargs={"force": True}, task_id=f"{once['user_id']}-redelivered"
    )
    again = update_user_favorite_cache.apply_async(
        args=[user_id], kwargs={"force": True}, task_id=f"{once['user_id']}-redelivered"
    )
    assert twice.get(timeout=30)["outcome"] == again.get(timeout=30)["outcome"] == "rebuilt"
    facts, summary, view = (
        platform.l3.facts(user_id),
        platform.l3.get(user_id).summary,
        platform.l2.state(user_id),
    )
    assert (facts, summary) == state_once[:2]
    assert view.generation_built_from == state_once[2].generation_built_from
    assert (
        platform.l2.count(user_id, view.generation)
        == platform.l2.count(user_id, state_once[2].generation)
        == 1
    )
