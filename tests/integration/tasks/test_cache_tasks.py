"""``tasks.update_user_favorite_cache`` through the real broker and worker."""

import pytest

from tasks import update_user_favorite_cache

pytestmark = pytest.mark.integration


def test_task_rebuilds_and_reports(platform, celery_worker, user_id):
    platform.extraction.extract_facts(user_id, [{"role": "user", "content": "I'm good at Python"}])
    result = update_user_favorite_cache.delay(user_id).get(timeout=30)
    assert result["user_id"] == user_id
    assert result["memories"] == 1
    assert result["categories"] == {"skill": 1}
    assert result["written"] is True
    assert platform.l3.get(user_id).summary.top_skills == ["Python"]


def test_task_options_make_redelivery_safe():
    assert update_user_favorite_cache.acks_late is True
    assert update_user_favorite_cache.name == "tasks.update_user_favorite_cache"


def test_bad_user_id_fails_clearly(celery_worker):
    from memcache_platform.errors import InvalidInput

    with pytest.raises(InvalidInput):
        update_user_favorite_cache.delay("not a valid id").get(timeout=30)
