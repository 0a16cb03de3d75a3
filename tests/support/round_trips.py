"""Count the Redis round trips a block of code makes, with the commands each one carried.

Instrumentation, not a mock: every redis-py connection sends a command, a pipeline or a script
through ``send_packed_command`` (one call per round trip), and the counter wraps it, records, and
calls the real method. Only the calling thread is counted: the session's worker, the breakers'
probes and the outbox run on threads of their own in the same process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import pytest
from redis.connection import AbstractConnection

# The connection's own health check (a PING every 30 s of idleness, redis-py's
# health_check_interval) may fall inside any block: it says nothing about the code counted.
HEALTH_CHECK = ["PING"]


class Trip(NamedTuple):
    """One round trip: the Redis database of its connection and the commands it carried."""

    db: int
    commands: list[str]


def command_names(packed: Any) -> list[str]:
    """The command names of a packed RESP request (one or several commands)."""
    data = packed if isinstance(packed, bytes | bytearray | memoryview) else b"".join(packed)
    data, names, pos = bytes(data), [], 0
    while pos < len(data):
        end = data.index(b"\r\n", pos)
        count, pos = int(data[pos + 1 : end]), end + 2  # "*<n>"
        for i in range(count):
            end = data.index(b"\r\n", pos)
            size = int(data[pos + 1 : end])  # "$<size>"
            if i == 0:
                names.append(data[end + 2 : end + 2 + size].decode().upper())
            pos = end + 2 + size + 2
    return names


@contextmanager
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Trip]]:
    """Yields a list that gets one ``Trip`` per round trip of this thread."""
    trips: list[Trip] = []
    thread = threading.get_ident()
    original = AbstractConnection.send_packed_command

    def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        if threading.get_ident() == thread:
            names = command_names(command)
            if names != HEALTH_CHECK:
                trips.append(Trip(int(getattr(self, "db", 0)), names))
        original(self, command, check_health)

    with monkeypatch.context() as patch:
        patch.setattr(AbstractConnection, "send_packed_command", counting)
        yield trips
