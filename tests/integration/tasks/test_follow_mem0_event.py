"""``tasks.follow_mem0_event`` on the session's real worker: an event L4 does not know ends FAILED.

The session platform is the local backend, which queues no adds: every event id is unknown to it,
so the task's end is a recorded failure, its hand-off and a cleared marker (the chained hosted
test, tests/e2e/test_hosted_chain.py, covers SUCCEEDED through the same service).
"""

from __future__ import annotations

import time
import uuid

from tests.support.metrics import sample


def test_an_unknown_event_is_recorded_failed_and_the_marker_cleared(
    platform, celery_worker, user_id, wait_for
):
    event_id = str(uuid.uuid4())
    marks = platform.mem0_event_marks
    marks.add_pending(user_id, [event_id])
    failed = sample("memcache_mem0_events_total", outcome="failed")
    before = platform.watermarks.current_many([user_id])[user_id]
    task_id = platform.task_queue.enqueue_follow_event(user_id, event_id, time.time())
    state = wait_for(lambda: (s := platform.task_queue.task_state(task_id))["state"] == "SUCCESS" and s, 20)
    assert state and state["result"]["status"] == "FAILED", platform.task_queue.task_state(task_id)
    assert marks.pending(user_id) == {}
    (failure,) = marks.failures(user_id)
    assert failure["event_id"] == event_id and "not know" in failure["detail"]
    assert sample("memcache_mem0_events_total", outcome="failed") == failed + 1
    assert platform.watermarks.current_many([user_id])[user_id] > before
