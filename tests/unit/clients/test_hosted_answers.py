"""The hosted backend's reading of Mem0's add and event answers, and the follower's backoff."""

from __future__ import annotations

import pytest

from memcache_platform.clients.mem0.hosted import parse_add_answer, parse_event
from memcache_platform.services.mem0_events import EventPolicy

QUEUED = {"message": "Memory processing has been queued for background execution", "status": "PENDING"}


@pytest.mark.parametrize(
    "answer",
    [
        QUEUED | {"event_id": "e1"},  # one queued event, bare
        [QUEUED | {"event_id": "e1"}],  # a list of them (the v1 answer)
        {"results": [QUEUED | {"event_id": "e1"}]},  # inside v1.1's results
    ],
)
def test_a_queued_add_is_one_pending_item_per_event(answer):
    assert parse_add_answer(answer) == [{"event_id": "e1", "status": "PENDING"}]


def test_an_immediate_add_keeps_its_memories():
    memory = {"id": "m1", "memory": "Likes tea", "event": "ADD"}
    assert parse_add_answer({"results": [memory]}) == [memory]
    assert parse_add_answer([memory]) == [memory]
    assert parse_add_answer({"results": []}) == []


def test_an_event_answer_is_read_with_its_results_and_detail():
    answer = {
        "id": "e1",
        "status": "succeeded",
        "results": [{"id": "m1", "event": "ADD", "data": {"memory": "Likes tea"}}],
    }
    assert parse_event(answer) == {
        "status": "SUCCEEDED",
        "results": [{"id": "m1", "memory": "Likes tea", "event": "ADD"}],
        "detail": None,
    }
    assert parse_event({"status": "FAILED", "detail": "quota"})["detail"] == "quota"


def test_the_backoff_doubles_to_its_cap_and_ends_at_the_deadline():
    policy = EventPolicy(first_s=0.25, max_s=2.0, deadline_s=60)
    assert [policy.delay(n, accepted_at=1000, now=1001) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert policy.delay(0, accepted_at=1000, now=1061) is None
