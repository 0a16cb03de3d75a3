"""Producers send tasks by name: routed by ``task_routes``, failing fast as ``BrokerUnavailable``.

The producer app here publishes to a Redis of its own that no worker consumes, so the messages can
be read back from the queues (kombu's Redis transport keeps a queue as a Redis list of that name).
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import redis
from celery import Celery

from memcache_platform import task_names
from memcache_platform.clients.task_queue import BrokerUnavailable, TaskQueue
from memcache_platform.dev.servers import RedisServer, free_port

pytestmark = pytest.mark.integration


def _producer(broker_url: str, result_backend: str | None = None) -> Celery:
    """The platform's Celery config with other servers; never the process's current app."""
    celery = Celery("producer-under-test", set_as_current=False)
    celery.config_from_object("config.celeryconfig")
    celery.conf.update(broker_url=broker_url, result_backend=result_backend or broker_url)
    return celery


@pytest.fixture(scope="module")
def broker(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path_factory.mktemp("producer-broker")).start()
    yield server
    server.stop()


def _messages(client: redis.Redis, queue: str) -> list[tuple[dict, list, dict]]:
    """(headers, args, kwargs) of every message waiting in ``queue``, oldest first."""
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):  # kombu LPUSHes, consumers BRPOP
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"], args, kwargs))
    return found


def test_tasks_are_sent_by_name_into_the_queues_of_task_routes(broker):
    client = redis.Redis.from_url(broker.url)
    client.flushdb()
    queue = TaskQueue(_producer(broker.url))

    plain, forced, sweep = (
        queue.enqueue_rebuild("u1"),
        queue.enqueue_rebuild("u2", force=True),
        queue.enqueue_sweep(),
    )

    handoff = _messages(client, task_names.HANDOFF_QUEUE)
    assert [(h["task"], h["id"], a, k) for h, a, k in handoff] == [
        (task_names.REBUILD_USER, plain, ["u1"], {}),
        (task_names.REBUILD_USER, forced, ["u2"], {"force": True}),
    ]
    assert [(h["task"], h["id"]) for h, _, _ in _messages(client, task_names.SWEEP_QUEUE)] == [
        (task_names.SWEEP, sweep)
    ]


def test_an_unreachable_broker_is_broker_unavailable_after_one_quick_retry(broker):
    queue = TaskQueue(_producer(f"redis://127.0.0.1:{free_port()}/0", result_backend=broker.url))
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        queue.enqueue_rebuild("u1")
    assert time.monotonic() - started < 5  # task_publish_retry_policy: one retry, 0.2 s at most apart
    assert caught.value.code == "broker_unavailable"
    with pytest.raises(BrokerUnavailable):
        queue.enqueue_sweep()


def test_ping_answers_for_a_live_broker_and_raises_for_a_dead_one(broker):
    TaskQueue(_producer(broker.url)).ping(timeout_s=1)
    with pytest.raises(Exception):  # noqa: B017 - kombu's OperationalError or a socket error
        TaskQueue(_producer(f"redis://127.0.0.1:{free_port()}/0")).ping(timeout_s=0.5)


def test_task_state_of_an_unreachable_result_backend_is_broker_unavailable():
    queue = TaskQueue(_producer(f"redis://127.0.0.1:{free_port()}/0"))
    with pytest.raises(BrokerUnavailable):
        queue.task_state("00000000-0000-4000-8000-000000000000")
