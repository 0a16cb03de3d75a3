"""L2: top-k search results per user, generation and query, in Redis.

Keys: ``mc:{user}:g<gen>:q:<sha>`` for entries, ``mc:{user}:gen`` (a hash: ``gen``,
``built_from``, ``built_at``) for the published generation. Each entry records the write
watermark it was built from; a reader compares it with the user's current watermark.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from memcache_platform.tiers.l1_embeddings import normalize_query
from memcache_platform.tiers.redis_client import redis_errors, scan_user, user_key
from memcache_platform.tiers.watermark import READ_FLOORED_FN, Watermarks, now_us

# Publish generation ARGV[1] only if it is newer than the published one: a slow rebuild that
# finishes after a faster, later one must not roll the user back.
_PUBLISH = """
local current = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'built_from', ARGV[2], 'built_at', ARGV[3])
return 1
"""

# READ_FLOORED on KEYS[1] (the watermark) and the published generation of KEYS[2], in one call.
# One script rather than a pipeline holding a script: on a cluster a pipelined EVALSHA cannot load
# a script a restarted master lost (NOSCRIPT), and both keys share the user's hash tag (one slot).
_STATE = (
    READ_FLOORED_FN
    + """
local wm = read_floored(KEYS[1], ARGV[1])
local gen = redis.call('HMGET', KEYS[2], 'gen', 'built_from', 'built_at')
return {wm, gen[1], gen[2], gen[3]}
"""
)


class Hits:
    """Search results, as a list and as JSON text; each form is made from the other once, if asked.

    An L2 hit keeps the JSON text Redis holds, so the API sends it as it is: decoding it into dicts
    and encoding them again cost about a tenth of a hit's time in gunicorn, for the same bytes.
    """

    __slots__ = ("_items", "_json")

    def __init__(self, items: list[dict[str, Any]] | None = None, *, json_text: bytes | None = None) -> None:
        if (items is None) == (json_text is None):
            raise ValueError("Hits takes a list or its JSON text")
        self._items, self._json = items, json_text

    @property
    def items(self) -> list[dict[str, Any]]:
        if self._items is None:
            self._items = list(json.loads(self._json))  # type: ignore[arg-type]
        return self._items

    @property
    def json(self) -> bytes:
        """The results as UTF-8 JSON."""
        if self._json is None:
            self._json = json.dumps(self._items, ensure_ascii=False, separators=(",", ":")).encode()
        return self._json

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hits) and self.items == other.items

    def __repr__(self) -> str:
        return f"Hits({self.items!r})"


# The stored entry's head, when it was written with the results last (every writer since Hits):
# the results are then the bytes between the head and the closing brace.
_HEAD = re.compile(rb'\{"watermark":(-?\d+),"built_at":(-?[0-9.eE+-]+),"results":')


@dataclass(frozen=True, init=False)
class L2Entry:
    """One cached search answer and the watermark it was built from."""

    watermark: int
    hits: Hits
    built_at: float

    def __init__(self, watermark: int, results: list[dict[str, Any]] | Hits, built_at: float) -> None:
        object.__setattr__(self, "watermark", watermark)
        object.__setattr__(self, "hits", results if isinstance(results, Hits) else Hits(results))
        object.__setattr__(self, "built_at", built_at)

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.hits.items

    def dumps(self) -> bytes:
        """A JSON object, results last: any JSON reader takes it, ``loads`` slices the results out."""
        return b'{"watermark":%d,"built_at":%s,"results":%s}' % (
            self.watermark,
            repr(float(self.built_at)).encode(),
            self.hits.json,
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> L2Entry:
        data = raw.encode() if isinstance(raw, str) else raw
        head = _HEAD.match(data)
        if head is not None and data.endswith(b"}"):
            return cls(int(head[1]), Hits(json_text=data[head.end() : -1]), float(head[2]))
        parsed = json.loads(data)  # written in another key order (before Hits): read it whole
        return cls(int(parsed["watermark"]), list(parsed["results"]), float(parsed["built_at"]))


@dataclass(frozen=True)
class UserCacheView:
    """A user's watermark and published generation, read in one round trip."""

    watermark: int
    generation: int
    generation_built_from: int | None
    generation_built_at: float | None

    @classmethod
    def from_reply(cls, watermark: Any, gen: Any, built_from: Any, built_at: Any) -> UserCacheView:
        """From Redis replies: the watermark, then ``gen``, ``built_from``, ``built_at`` of the hash."""
        return cls(
            int(watermark or 0),
            int(gen or 0),
            int(built_from) if built_from is not None else None,
            float(built_at) if built_at is not None else None,
        )


def query_hash(query: str, limit: int, session_id: str | None) -> str:
    """Identifies a search: the normalised query, ``limit`` and the session filter."""
    key = json.dumps([normalize_query(query), limit, session_id or ""], ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()


class ResultCache:
    """Read, fill and publish L2 entries."""

    def __init__(self, client: redis.Redis, *, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._publish = client.register_script(_PUBLISH)
        self._state = client.register_script(_STATE)

    @staticmethod
    def generation_key(user_id: str) -> str:
        return user_key(user_id, "gen")

    @staticmethod
    def entry_key(user_id: str, generation: int, qhash: str) -> str:
        return user_key(user_id, f"g{generation}:q:{qhash}")

    def state(self, user_id: str) -> UserCacheView:
        """Watermark and generation of the user."""
        with redis_errors("L2 unavailable"):
            # Floored: a watermark evicted after a write must not let an older entry pass as current.
            keys = [Watermarks.key(user_id), self.generation_key(user_id)]
            watermark, gen, built_from, built_at = self._state(keys=keys, args=[now_us()])
        return UserCacheView.from_reply(watermark, gen, built_from, built_at)

    def get(self, user_id: str, generation: int, qhash: str) -> L2Entry | None:
        """The entry, or None."""
        with redis_errors("L2 unavailable"):
            raw = self.client.get(self.entry_key(user_id, generation, qhash))
        return L2Entry.loads(raw) if raw is not None else None

    def put(self, user_id: str, generation: int, entries: Mapping[str, L2Entry]) -> None:
        """Store entries under ``generation`` in one round trip."""
        with redis_errors("L2 unavailable"):
            pipe = self.client.pipeline(transaction=False)
            for qhash, entry in entries.items():
                pipe.set(self.entry_key(user_id, generation, qhash), entry.dumps(), ex=self.ttl_s)
            pipe.execute()

    def publish(self, user_id: str, generation: int, built_from: int) -> bool:
        """Make ``generation`` the one readers use, in one step; False if a newer one is published."""
        with redis_errors("L2 unavailable"):
            done = self._publish(
                keys=[self.generation_key(user_id)], args=[generation, built_from, f"{time.time():.6f}"]
            )
        return bool(done)

    def count(self, user_id: str, generation: int) -> int:
        """Entries stored under ``generation`` (SCAN within the user's hash slot)."""
        with redis_errors("L2 unavailable"):
            return sum(1 for _ in scan_user(self.client, user_id, f"g{generation}:q:*"))
