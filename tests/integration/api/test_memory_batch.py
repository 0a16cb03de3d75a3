"""``POST /v1/users/{user_id}/memories/batch``: per-record results and ONE hand-off for the whole batch.

Real Mem0, Redis, PostgreSQL and the session's worker; nothing is mocked.
"""

from __future__ import annotations

import pytest

from tests.support.metrics import sample

pytestmark = pytest.mark.integration
OUTCOMES = ("queued", "coalesced", "outbox", "failed", "timeout")


def _handoffs() -> float:
    return sum(sample("memcache_handoffs_total", outcome=o) for o in OUTCOMES)


def _batch(client, auth, user_id, records):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/users/{user_id}/memories/batch", json={"records": records}, headers=auth)


def _says(text: str) -> dict[str, list[dict[str, str]]]:
    return {"messages": [{"role": "user", "content": text}]}


def test_batch_writes_skips_duplicates_reports_a_bad_record_and_hands_off_once(
    client, auth, user_id, platform, celery_worker, wait_for
):
    assert (
        client.post(f"/v1/users/{user_id}/memories", json=_says("I love pho"), headers=auth).status_code
        == 201
    )
    before = _handoffs()
    answer = _batch(
        client,
        auth,
        user_id,
        [
            _says("My favourite drink is tea and I'm good at Go"),
            {"memory": "Has two cats", "created_at": "2023-05-06T07:08:09Z", "metadata": {"source": "crm"}},
            _says("I love pho"),  # already stored before the batch
            {"memory": "Has a dog", "messages": [{"role": "user", "content": "x"}]},  # bad: both
            {"memory": "has two cats"},  # a duplicate of record 1, in any case
            _says("hello"),  # states nothing
        ],
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert [(r["index"], r["status"], r.get("reason")) for r in body["results"]] == [
        (0, "written", None),
        (1, "written", None),
        (2, "skipped", "duplicate"),
        (3, "error", None),
        (4, "skipped", "duplicate"),
        (5, "skipped", "no_facts"),
    ]
    assert body["results"][3]["error"]["code"] == "invalid_record"
    assert "exactly one of" in body["results"][3]["error"]["message"]
    assert body["counts"] == {"written": 2, "skipped": 3, "failed": 1}
    assert _handoffs() - before == 1  # one hand-off for the batch, not one per record
    assert body["cache"]["handoff"] in ("queued", "coalesced")
    assert body["cache"]["watermark"] == platform.watermarks.current(user_id)

    stored = {r.memory: r for r in platform.mem0.get_all(user_id=user_id)}
    assert sorted(stored) == ["Favourite drink is tea", "Good at Go", "Has two cats", "Likes pho"]
    cats = stored["Has two cats"]
    assert cats.created_at.startswith("2023-05-06T07:08:09")  # the record's time, as Mem0 keeps it
    assert cats.metadata["source"] == "crm"
    # The one hand-off's rebuild takes in every record of the batch.
    watermark = body["cache"]["watermark"]
    assert wait_for(
        lambda: (platform.l3.get(user_id) or _Never).built_from_watermark == watermark, timeout=30
    )
    assert platform.l3.get(user_id).summary.favorites.get("drink") == ["tea"]


class _Never:
    built_from_watermark = None


def test_a_batch_of_only_duplicates_hands_nothing_off(client, auth, user_id):
    records = [{"memory": "Plays the cello"}]
    assert _batch(client, auth, user_id, records).json["counts"]["written"] == 1
    before = _handoffs()
    again = _batch(client, auth, user_id, records * 2).json
    assert again["counts"] == {"written": 0, "skipped": 2, "failed": 0}
    assert again["cache"]["handoff"] == "skipped"
    assert _handoffs() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"records": []}, "invalid_body"),
        ({"records": "nope"}, "invalid_body"),
        ({"records": [["not", "an", "object"]]}, "invalid_body"),
        ({"records": [{"memory": "a"}], "extra": 1}, "invalid_body"),
        ({}, "invalid_body"),
    ],
)
def test_a_malformed_batch_is_a_400_and_writes_nothing(client, auth, user_id, platform, body, code):
    answer = client.post(f"/v1/users/{user_id}/memories/batch", json=body, headers=auth)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == code
    assert platform.mem0.get_all(user_id=user_id) == []


def test_more_records_than_the_setting_allows_is_a_400(client, auth, user_id, platform):
    records = [{"memory": f"Fact {i}"} for i in range(platform.settings.import_max_batch + 1)]
    answer = _batch(client, auth, user_id, records)
    assert answer.status_code == 400
    assert "at most" in answer.json["error"]["message"]


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"memory": "Has a cat", "created_at": "yesterday"}, "invalid_created_at"),
        ({"memory": " "}, "invalid_memory"),
        ({"memory": "Has a cat", "metadata": {"user_id": "someone-else"}}, "invalid_metadata"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "invalid_messages"),
        ({"memory": "Has a cat", "colour": "red"}, "invalid_colour"),
    ],
)
def test_each_bad_record_is_reported_with_the_field_at_fault(client, auth, user_id, record, code):
    answer = _batch(client, auth, user_id, [record, {"memory": "Speaks Welsh"}])
    assert answer.status_code == 200
    bad, good = answer.json["results"]
    assert (bad["status"], bad["error"]["code"]) == ("error", code)
    assert good["status"] == "written"
