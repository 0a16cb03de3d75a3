"""RedBeat, made to survive a Redis that restarts empty, hangs or goes away.

RedBeat 2.4.2's ``tick()`` first extends its lock; after a Redis restart without persistence the
lock key is gone and redis-py raises ``LockNotOwnedError``; any other Redis error in ``tick()`` (a
refused connection, a timeout) propagates the same way. ``celery.beat.Service.start`` does not
catch either, so beat exited (rc=1) on its next tick after every Redis restart. RedBeat offers
``retry_period``, but that only retries plain commands (its ``RetryingConnection``), not the lock,
and a beat stuck in retries still holds the loop. A restart empty also loses the schedule itself
(the static entries live in Redis): a surviving beat would then schedule nothing.

``ResilientRedBeatScheduler`` keeps RedBeat and changes ``tick()`` only: hold the lock (re-acquire
it without blocking when it was lost; a beat that cannot is a standby beat and schedules nothing),
re-install the static schedule when Redis lost it, and turn a Redis error into a short wait.

A schedule found lost also makes the sweep due at once. A Redis that lost its data lost the broker's
queued hand-offs with it (under ``make run`` broker and cache are one Redis), and only a sweep finds
those users; RedBeat would count the re-installed entry as run just now and wait a whole interval.

Upstream: RedBeat's "Cannot extend a lock that's no longer owned" beat exits are sibson/redbeat#218
and #230 (a lock lost on a Redis restart or failover); PR #128 proposed retrying inside the lock
calls; none of it is in 2.4.2, hence this subclass.
"""

from __future__ import annotations

import logging
from datetime import MINYEAR, UTC, datetime
from typing import Any

import redis
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, RedBeatScheduler, get_redis

logger = logging.getLogger(__name__)
RETRY_S = 2.0  # a tick that met a Redis error tries again this soon


class ResilientRedBeatScheduler(RedBeatScheduler):
    """RedBeat whose tick never raises a Redis error (see the module docstring)."""

    def tick(self, min: Any = min, **kwargs: Any) -> float:  # noqa: A002 - RedBeat's signature
        """Schedule what is due while holding the lock; the seconds until the next tick."""
        try:
            if self.lock_key and not self._hold_lock():
                return self.max_interval  # another beat holds the lock: wait as a standby beat
            self._reinstall_lost_schedule()
            return super().tick(min=min, **kwargs)
        except redis.RedisError as exc:  # LockNotOwnedError included: the next tick re-acquires
            logger.warning(
                "beat: Redis unavailable (%s: %s); next try in %.0f s", type(exc).__name__, exc, RETRY_S
            )
            return RETRY_S

    def _hold_lock(self) -> bool:
        """True if this beat holds the lock, re-acquiring (never waiting for) one that was lost."""
        if self.lock is None:  # RedBeat's beat_init acquisition failed (Redis was away at start)
            client = get_redis(self.app)
            self.lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval)
            self.lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)
        if self.lock.local.token is not None and self.lock.owned():
            return True
        if self.lock.acquire(blocking=False):
            logger.warning("beat: lock (re-)acquired; this beat schedules")
            return True
        return False

    def _reinstall_lost_schedule(self) -> None:
        """After a Redis restart empty, write the static schedule (the sweep) back."""
        conf = self.app.redbeat_conf
        if conf.schedule and not get_redis(self.app).exists(conf.statics_key):
            logger.warning(
                "beat: the schedule is gone from Redis (restarted empty?); installing it again, "
                "the sweep due now (hand-offs queued in that Redis were lost with it)"
            )
            self.setup_schedule()
            never = datetime(MINYEAR, 1, 2, tzinfo=UTC)  # RedBeat's own "never ran": due at once
            for name in conf.schedule:
                self.Entry.from_key(self.Entry.generate_key(self.app, name), app=self.app).reschedule(never)

    def close(self) -> None:
        """Release the lock if still ours; a Redis that is away must not fail the shutdown."""
        try:
            super().close()
        except redis.RedisError as exc:
            logger.warning("beat: lock not released (%s); it lapses after its timeout", exc)
