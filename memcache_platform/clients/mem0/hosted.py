"""The hosted platform's ``mem0.MemoryClient`` behind the backend interface."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from config.settings import Settings
from memcache_platform.clients.mem0.base import AddInterrupted
from memcache_platform.clients.mem0.local import configure_offline_environment
from memcache_platform.errors import (
    InvalidInput,
)
from memcache_platform.tiers.l1_embeddings import EmbeddingCache

GET_ALL_PAGE = 1000


def parse_add_answer(answer: Any) -> list[dict[str, Any]]:
    """The memories of an add answer, or one ``{"event_id", "status"}`` item per queued event.

    The hosted platform answers either at once (``{"results": [...]}``, or a bare list in older
    versions) or, in its default ``async_mode``, with ``event_id`` + ``status: PENDING`` and no
    memories, alone or as a list of such items (one per queued event).
    """
    items = answer.get("results", [answer]) if isinstance(answer, dict) else answer
    parsed: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("id"):
            parsed.append(item)
        elif item.get("event_id"):  # queued: the memory has no id until its event SUCCEEDED
            parsed.append({"event_id": str(item["event_id"]), "status": item.get("status", "PENDING")})
    return parsed


def parse_event(answer: dict[str, Any]) -> dict[str, Any]:
    """``GET /v1/event/{id}/`` as ``{"status", "results": [{"id", "memory", "event"}], "detail"}``."""
    results = []
    for item in answer.get("results") or []:
        data = item.get("data") if isinstance(item.get("data"), dict) else {}
        results.append(
            {
                "id": item.get("id"),
                "memory": item.get("memory", data.get("memory")),
                "event": item.get("event"),
            }
        )
    status = str(answer.get("status", "PENDING")).upper()
    return {"status": status, "results": results, "detail": answer.get("detail") or answer.get("error")}


class HostedMem0Backend:
    """The hosted Mem0 platform through ``mem0.MemoryClient`` (it embeds server-side: no L1)."""

    def __init__(self, settings: Settings, embedding_cache: EmbeddingCache | None = None) -> None:
        configure_offline_environment(settings.mem0_dir)
        from mem0 import MemoryClient

        if not settings.mem0_api_key:
            raise InvalidInput("MEMCACHE_MEM0_BACKEND=hosted needs MEMCACHE_MEM0_API_KEY")
        self.client = MemoryClient(api_key=settings.mem0_api_key, host=settings.mem0_host)

    def add(self, messages, *, user_id, metadata, infer, run_id):  # type: ignore[no-untyped-def]
        extra = {"run_id": run_id} if run_id else {}
        return parse_add_answer(
            self.client.add(messages, user_id=user_id, metadata=metadata, infer=infer, **extra)
        )

    def add_many(self, memories, *, user_id, run_id):  # type: ignore[no-untyped-def]
        """One add per memory: the hosted API has no batch add (``/v1/batch/`` updates and deletes only).

        One add of many messages would give them all the same metadata, and each fact has its own.
        """
        answers: list[list[dict[str, Any]]] = []
        for memory in memories:
            try:
                message = [{"role": "user", "content": memory.text}]
                answers.append(
                    self.add(message, user_id=user_id, metadata=memory.metadata, infer=False, run_id=run_id)
                )
            except Exception as exc:
                if not answers:
                    raise
                raise AddInterrupted(answers) from exc
        return answers

    def get_event(self, event_id: str) -> dict[str, Any]:
        """The state of one queued add; MemoryClient 2.2 has no method for it, so its HTTP client asks."""
        response = self.client.client.get(f"/v1/event/{event_id}/")
        response.raise_for_status()
        return parse_event(response.json())

    def embedding_batch(self, texts: Sequence[str]) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # the server embeds what it is sent

    def get(self, memory_id):  # type: ignore[no-untyped-def]
        return self.client.get(memory_id)

    def get_all(self, *, user_id, limit):  # type: ignore[no-untyped-def]
        # Paged (POST /v3/memories/?page=&page_size=): a page holds at most GET_ALL_PAGE memories.
        items: list[dict[str, Any]] = []
        page, size = 1, min(limit, GET_ALL_PAGE)
        while len(items) < limit:
            result = self.client.get_all(filters={"user_id": user_id}, page=page, page_size=size)
            if isinstance(result, list):  # an unpaged answer holds everything
                return result[:limit]
            items += result.get("results", [])
            if not result.get("next") or not result.get("results"):
                break
            page += 1
        return items[:limit]

    def search(self, query, *, user_id, limit, run_id):  # type: ignore[no-untyped-def]
        filters = {"user_id": user_id} | ({"run_id": run_id} if run_id else {})
        result = self.client.search(query, filters=filters, top_k=limit)
        return list(result.get("results", result if isinstance(result, list) else []))

    def delete(self, memory_id):  # type: ignore[no-untyped-def]
        self.client.delete(memory_id)

    def erase_user(self, user_id: str) -> int:
        count = len(self.get_all(user_id=user_id, limit=1000))
        self.client.delete_all(user_id=user_id)  # the platform purges its own history
        return count

    def update(self, memory_id, text, *, metadata=None, drop_metadata=()):  # type: ignore[no-untyped-def]
        # The hosted PUT replaces the metadata it is sent: keys left out are gone, nothing to drop.
        extra = {"metadata": metadata} if metadata else {}
        self.client.update(memory_id, text=text, **extra)  # PUT /v1/memories/{id}/

    def history(self, memory_id):  # type: ignore[no-untyped-def]
        result = self.client.history(memory_id)  # GET /v1/memories/{id}/history/
        return list(result.get("results", []) if isinstance(result, dict) else result)

    def ping(self) -> None:
        self.client._validate_api_key()  # GET /v1/ping/

    def user_stats(self) -> dict[str, tuple[int, datetime | None]]:
        return {}  # the hosted API has no aggregate: sweeps rely on watermarks and max age

    def list_users(self) -> list[str]:
        result = self.client.users()  # GET /v1/entities/
        items = result.get("results", []) if isinstance(result, dict) else result
        return [
            str(item["name"]) for item in items if item.get("type", "user") == "user" and item.get("name")
        ]
