"""The hosted platform's ``mem0.MemoryClient`` behind the backend interface."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from config.settings import Settings
from memcache_platform.clients.mem0.local import configure_offline_environment
from memcache_platform.errors import (
    InvalidInput,
)
from memcache_platform.tiers.l1_embeddings import EmbeddingCache


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
        result = self.client.add(messages, user_id=user_id, metadata=metadata, infer=infer, **extra)
        return list(result.get("results", result if isinstance(result, list) else []))

    def embedding_batch(self, texts: Sequence[str]) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # the server embeds what it is sent

    def get(self, memory_id):  # type: ignore[no-untyped-def]
        return self.client.get(memory_id)

    def get_all(self, *, user_id, limit):  # type: ignore[no-untyped-def]
        result = self.client.get_all(filters={"user_id": user_id}, page_size=limit)
        return list(result.get("results", result if isinstance(result, list) else []))

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

    def update(self, memory_id, text, *, metadata=None):  # type: ignore[no-untyped-def]
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
