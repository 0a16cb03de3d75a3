"""The queries each user asks most, with exponential decay, in a Redis sorted set ``mc:{user}:hot``."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import redis

from memcache_platform.tiers.redis_client import redis_errors, user_key

MAX_TRACKED = 200

# score = log(sum of e^(t_i / tau)) over the query's uses, kept in log space (logaddexp) so it never
# overflows; a use now outweighs one from a half-life ago exactly twice.
# A Lua function, so the search's one-trip lookup (tiers/l2_lookup.py) records the same way.
RECORD_FN = """
local function record_hot(key, member, score, max_tracked, ttl)
  local s = tonumber(score)
  local old = redis.call('ZSCORE', key, member)
  if old then
    old = tonumber(old)
    local hi, lo = math.max(old, s), math.min(old, s)
    s = hi + math.log(1 + math.exp(lo - hi))
  end
  redis.call('ZADD', key, s, member)
  redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(max_tracked) + 1))
  redis.call('EXPIRE', key, ttl)
end
"""
_RECORD = RECORD_FN + "record_hot(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])\nreturn 1\n"


@dataclass(frozen=True)
class QuerySpec:
    """A search as the user asked it: what a rebuild re-runs to warm L2."""

    query: str
    limit: int
    session_id: str | None = None

    def member(self) -> str:
        return json.dumps([self.query, self.limit, self.session_id], ensure_ascii=False)

    @classmethod
    def from_member(cls, member: bytes | str) -> QuerySpec:
        query, limit, session_id = json.loads(member)
        return cls(query, int(limit), session_id)


class HotQueries:
    """Record searches and list a user's hottest ones."""

    def __init__(self, client: redis.Redis, *, half_life_s: float, ttl_s: int) -> None:
        self.client = client
        self.tau = half_life_s / math.log(2)
        self.ttl_s = ttl_s
        self._record = client.register_script(_RECORD)

    @staticmethod
    def key(user_id: str) -> str:
        return user_key(user_id, "hot")

    def record_args(self, spec: QuerySpec, *, now: float | None = None) -> list[object]:
        """The arguments of ``record_hot`` after its key: member, score, how many kept, TTL."""
        score = (time.time() if now is None else now) / self.tau
        return [spec.member(), score, MAX_TRACKED, self.ttl_s]

    def record(self, user_id: str, spec: QuerySpec, *, now: float | None = None) -> None:
        """Count one use of ``spec`` by the user."""
        with redis_errors("hot query not recorded"):
            self._record(keys=[self.key(user_id)], args=self.record_args(spec, now=now))

    def top(self, user_id: str, n: int) -> list[QuerySpec]:
        """The user's ``n`` hottest searches, hottest first."""
        if n <= 0:
            return []
        with redis_errors("hot queries unreadable"):
            members = self.client.zrevrange(self.key(user_id), 0, n - 1)
        return [QuerySpec.from_member(m) for m in members]
