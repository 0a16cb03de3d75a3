"""Celery 5.7.0's worker consumer, minus its exit when a Redis broker goes away with messages unacked.

Seen under ``make run`` after a Redis SIGKILL: ``Connection to broker lost`` → ``Restoring 1
unacknowledged message(s)`` → ``CRITICAL Unrecoverable error: AttributeError("'NoneType' object has
no attribute 'hostname'")`` and the worker exited (rc=1). The cause, in the installed versions:
``Consumer.on_connection_error_after_connected`` (celery/worker/consumer/consumer.py, new in 5.7.0;
5.6.3 only collects) first calls ``connection.collect()``, which closes the channels and drops the
transport (``kombu.Connection._do_close_transport`` sets ``transport.client = None``), and then
closes the same connection again with ``ignore_errors(connection, connection.close)``. That second
close closes the default channel again; with unacknowledged messages (``acks_late``) the channel
restores them through a new Redis pool whose parameters are read from ``transport.client``, now
``None`` (kombu/transport/redis.py ``Channel._connparams``). ``AttributeError`` is not among the
connection errors that ``ignore_errors`` swallows, so it escapes the consumer and stops the
worker. It is intermittent because it needs a message in flight at the moment of the loss (the
suite's solo worker, with one task at a time, never had one). Compare kombu #582 (an error on
restarting Gossip) and celery #9250.

The fix keeps Celery's behaviour and skips only the second close once ``collect()`` has done the
work: the unacknowledged messages stay in the broker's unacked index and are restored by the
visibility timeout (or were lost with a Redis that restarted empty; the sweep heals either way).
The same dead channel is reached once more when a task that ran through the outage is acknowledged
late (``QoS.ack`` → ``_connparams``): ``_guard_connparams`` turns "channel used after its broker
connection was closed" into the ``ConnectionError`` that every kombu and Celery caller handles
("Couldn't ack"). No Celery or kombu release has a fix yet (checked against celery 5.7.0, kombu
5.7.0, the newest on PyPI; the second close came with celery PR #10242).
"""

from __future__ import annotations

from typing import Any

import redis
from celery.worker.consumer import Consumer
from kombu.transport import redis as kombu_redis


class ResilientConsumer(Consumer):
    """Celery's consumer; a lost broker connection is closed once, never twice."""

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        """As Celery's, but the close after ``collect()`` is a no-op when the transport is gone."""
        connection = self.connection
        if connection is not None:
            close = connection.close

            def close_unless_collected(*args: Any, **kwargs: Any) -> None:
                if connection._transport is not None:  # collect() failed half way: close for real
                    close(*args, **kwargs)

            connection.close = close_unless_collected
        super().on_connection_error_after_connected(exc)


def _guard_connparams() -> None:
    """Make kombu's Redis channel raise ConnectionError, not AttributeError, once its transport closed."""
    original = kombu_redis.Channel._connparams
    if getattr(original, "guarded", False):
        return

    def _connparams(self: kombu_redis.Channel, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("kombu channel used after its broker connection was closed")
        return original(self, asynchronous)

    _connparams.guarded = True  # type: ignore[attr-defined]
    kombu_redis.Channel._connparams = _connparams  # type: ignore[method-assign]


_guard_connparams()  # on import: Celery imports this module (worker_consumer) in the worker only
