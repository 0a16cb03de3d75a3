"""The hosted backend under batched writes: each fact still one add, with its own metadata.

A fake ``MemoryClient`` (the only fake here): the hosted platform cannot be reached offline, and the
platform's own Mem0-compatible server refuses ``infer=false``, so nothing real can take these adds.
"""

from __future__ import annotations

from typing import Any

import pytest

from memcache_platform.clients.mem0 import Mem0ClientWrapper
from memcache_platform.clients.mem0.hosted import HostedMem0Backend
from memcache_platform.services.extraction import ExtractionService, PartialWriteError
from memcache_platform.services.handoff import HandoffResult


class FakeMemoryClient:
    """Records adds; answers as the hosted API does for ``infer=False`` (one memory per message)."""

    def __init__(self) -> None:
        self.adds: list[dict[str, Any]] = []

    def add(self, messages, *, user_id, metadata, infer, **extra):  # type: ignore[no-untyped-def]
        self.adds.append({"messages": messages, "metadata": metadata, "infer": infer})
        return {
            "results": [
                {"id": f"m{len(self.adds)}", "memory": m["content"], "event": "ADD"} for m in messages
            ]
        }

    def get_all(self, **kwargs):  # type: ignore[no-untyped-def]
        return {"results": []}


def test_three_facts_three_adds_with_their_own_metadata() -> None:
    backend = object.__new__(HostedMem0Backend)  # skip the constructor's ping of the platform
    backend.client = FakeMemoryClient()
    service = ExtractionService(
        Mem0ClientWrapper(backend, timeout_s=5), lambda u: HandoffResult(None, "queued")
    )
    text = "My favourite food is pho. I'm good at Python. I live in Lisbon."
    result = service.extract_facts("u1", [{"role": "user", "content": text}])
    assert [m.id for m in result.memories] == ["m1", "m2", "m3"]
    assert [
        (a["messages"][0]["content"], a["metadata"]["category"], a["infer"]) for a in backend.client.adds
    ] == [
        ("Favourite food is pho", "favorite", False),
        ("Good at Python", "skill", False),
        ("Lives in Lisbon", "profile", False),
    ]


class FailingSecondAdd(FakeMemoryClient):
    """The fake platform refusing the second add (an outage between two facts, not reproducible offline)."""

    def add(self, messages, **kwargs):  # type: ignore[no-untyped-def]
        if len(self.adds) == 1:
            raise ConnectionError("platform unreachable")
        return super().add(messages, **kwargs)


def test_a_failure_after_the_first_add_is_a_partial_write_listing_it() -> None:
    backend = object.__new__(HostedMem0Backend)
    backend.client = FailingSecondAdd()
    service = ExtractionService(
        Mem0ClientWrapper(backend, timeout_s=5), lambda u: HandoffResult(None, "queued")
    )
    text = "My favourite food is pho. I'm good at Python. I live in Lisbon."
    with pytest.raises(PartialWriteError) as caught:
        service.extract_facts("u1", [{"role": "user", "content": text}])
    assert [(w["id"], w["memory"]) for w in caught.value.details["written"]] == [
        ("m1", "Favourite food is pho")
    ]
    assert caught.value.status == 503
