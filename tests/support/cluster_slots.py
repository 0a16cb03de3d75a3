"""A RedisCluster that records the keys of every script, multi-key command and transaction it sends.

Instrumentation, not a fake: every command still goes to the real cluster. The log answers "which
calls named keys of more than one slot?" (a cluster refuses those: CROSSSLOT) and "which registered
scripts were never called?" (a script the suite does not run is a script nobody checked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
from redis.cluster import ClusterPipeline, key_slot

from memcache_platform.tiers.lazy_cluster import CacheCluster, FallbackScript, LazyCluster
from memcache_platform.tiers.redis_client import cache_cluster

_KEYLESS = {"PING", "SCAN", "SCRIPT LOAD", "SCRIPT", "CLUSTER", "COMMAND", "INFO", "FLUSHDB", "DBSIZE"}


@dataclass(frozen=True)
class Call:
    kind: str  # "script", "command" or "transaction"
    name: str  # the script's first line, the command, or the transaction's commands
    keys: tuple[bytes, ...]

    @property
    def slots(self) -> set[int]:
        return {key_slot(k) for k in self.keys}


@dataclass
class SlotLog:
    calls: list[Call] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)  # sha -> script text

    def cross_slot(self) -> list[Call]:
        """Calls whose keys hash to more than one slot."""
        return [c for c in self.calls if len(c.slots) > 1]

    def scripts_never_called(self) -> list[str]:
        called = {c.name for c in self.calls if c.kind == "script"}
        return [text for sha, text in self.scripts.items() if _script_name(sha, text) not in called]

    def script_name(self, sha: str) -> str:
        return _script_name(sha, self.scripts.get(sha, ""))


def _script_name(sha: str, text: str) -> str:
    first = next((line.strip() for line in text.strip().splitlines()), "")
    return f"{sha[:8]} {first}"


def _encode(key: Any) -> bytes:
    return key if isinstance(key, bytes) else str(key).encode()


def _keys_of(client: redis.RedisCluster, args: tuple[Any, ...]) -> tuple[bytes, ...]:
    command = str(args[0]).upper()
    if command in ("EVAL", "EVALSHA"):
        return tuple(_encode(k) for k in args[3 : 3 + int(args[2])])
    if command.split(" ")[0] in _KEYLESS:
        return ()
    try:
        keys = client._get_command_keys(*args) or []
    except redis.RedisError:
        return ()
    return tuple(_encode(k) for k in keys)


def recording_cluster(log: SlotLog) -> type[redis.RedisCluster]:
    """A ``RedisCluster`` class whose instances (and their pipelines) write into ``log``."""

    def note(client: redis.RedisCluster, args: tuple[Any, ...]) -> tuple[bytes, ...]:
        keys = _keys_of(client, args)
        command = str(args[0]).upper()
        if command == "EVALSHA":
            log.calls.append(Call("script", log.script_name(str(args[1])), keys))
        elif command == "EVAL":
            log.calls.append(Call("script", f"EVAL {str(args[1]).strip()[:40]}", keys))
        elif len(keys) > 1:
            log.calls.append(Call("command", command, keys))
        return keys

    class RecordingPipeline(ClusterPipeline):
        def execute_command(self, *args: Any, **kwargs: Any) -> Any:
            keys = note(self, args)
            if self._transaction:
                self._queued.append((str(args[0]).upper(), keys))
            return super().execute_command(*args, **kwargs)

        def execute(self, raise_on_error: bool = True) -> list[Any]:
            if self._transaction and self._queued:
                names = " ".join(name for name, _ in self._queued)
                log.calls.append(Call("transaction", names, tuple(k for _, ks in self._queued for k in ks)))
            self._queued = []
            return super().execute(raise_on_error)

    class RecordingCluster(CacheCluster):  # the platform's own cluster class
        def execute_command(self, *args: Any, **kwargs: Any) -> Any:
            note(self, args)
            return super().execute_command(*args, **kwargs)

        def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
            pipe = super().pipeline(transaction, shard_hint)
            pipe.__class__ = RecordingPipeline  # the same object, recording as it queues
            pipe._transaction, pipe._queued = bool(transaction), []
            return pipe

    return RecordingCluster


def recording_client(log: SlotLog, url: str, **breaker: float) -> LazyCluster:
    """The platform's lazy cluster client of ``url``, recording into ``log`` (scripts included)."""

    class RecordingLazy(LazyCluster):
        def register_script(self, script: str | bytes) -> FallbackScript:
            registered = super().register_script(script)
            log.scripts[registered.sha] = script if isinstance(script, str) else script.decode()
            return registered

    plain = cache_cluster(url, cluster_class=recording_cluster(log), **breaker)  # type: ignore[arg-type]
    return RecordingLazy(plain.url, plain.options, breaker=plain.breaker, cluster_class=plain.cluster_class)
