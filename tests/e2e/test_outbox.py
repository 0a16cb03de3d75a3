"""Redis stopped while 500 writes arrive; the outbox redelivers when it returns.

In the suite the broker has a Redis of its own (see conftest); a dead broker is the broker-down test's.
"""

import pytest

from tests.support.metrics import sample

pytestmark = pytest.mark.integration


def test_500_writes_during_a_redis_outage_all_land_and_heal(
    client, auth, user_id, redis_outage, platform, celery_worker, wait_for
):
    users = [f"{user_id}-{i:02d}" for i in range(50)]
    redelivered = sample("memcache_outbox_redelivered_total")
    with redis_outage():
        answers = [
            client.post(
                f"/v1/users/{users[i % 50]}/memories",
                json={"messages": [{"role": "user", "content": f"I love dish number {i}"}]},
                headers=auth,
            )
            for i in range(500)
        ]
        assert {a.status_code for a in answers} == {201}
        outcomes = [a.json["cache"]["handoff"] for a in answers]
        # The first write finds out (its watermark bump fails); every later one joins the outbox at once.
        assert outcomes[0] in ("queued", "outbox")
        assert set(outcomes[1:]) == {"outbox"}
        assert len(platform.handoff.outbox) == 50  # one entry per user, not per write
    # redis_outage drained the outbox on exit: every user was re-marked and re-enqueued.
    assert sample("memcache_outbox_redelivered_total") - redelivered >= 50
    for user in users:
        assert len(platform.mem0.get_all(user_id=user)) == 10

    def healed() -> bool:
        for user in users:
            entry = platform.l3.get(user)
            if entry is None or entry.summary.memory_count != 10:
                return False
            if entry.built_from_watermark != platform.watermarks.current(user):
                return False
        return True

    assert wait_for(healed, timeout=120)
    favorites = client.get(f"/v1/users/{users[0]}/favorites", headers=auth).json
    assert (favorites["tier"], favorites["stale"]) == ("L3", False)
    assert len(favorites["favorites"]["general"]) == 10
