"""A circuit breaker for one Redis server, per process: after a timeout or refusal, skip Redis.

While open, every command, pipeline and Lua script through a breaker connection fails at once
with ``CircuitOpen`` (a ``redis.ConnectionError``, so callers take their usual "Redis unavailable"
path) instead of waiting for a socket timeout. A background thread PINGs the server after
``open_s`` and then every ``probe_interval_s``, and closes the breaker when it answers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import redis
from redis.backoff import NoBackoff
from redis.connection import AbstractConnection
from redis.retry import Retry

from memcache_platform import metrics

log = logging.getLogger(__name__)

# Errors that say the server is away or hung. Auth errors subclass ConnectionError but come from
# a server that answered: skipping it would not help.
_ANSWERED = (redis.AuthenticationError, redis.exceptions.AuthorizationError)


class CircuitOpen(redis.ConnectionError):
    """Redis skipped: its circuit breaker is open after a recent timeout or refusal."""


class CircuitBreaker:
    """Closed (Redis used) or open (Redis skipped until a background PING answers)."""

    def __init__(
        self,
        name: str,
        probe: Callable[[], object],
        *,
        open_s: float,
        probe_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.name = name
        self.probe = probe
        self.open_s = open_s
        self.probe_interval_s = probe_interval_s
        self.clock = clock
        self.background = background  # False in unit tests: they call probe_once themselves
        self._lock = threading.Lock()
        self._opened_at: float | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        metrics.REDIS_BREAKER_OPEN.labels(name).set(0)

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def check(self) -> None:
        """Raise ``CircuitOpen`` while the breaker is open."""
        if self._opened_at is not None:
            raise CircuitOpen(f"Redis {self.name} skipped: circuit breaker open")

    def record_failure(self, exc: BaseException) -> None:
        """A timeout or refusal was seen: open the breaker (once) and start probing."""
        with self._lock:
            if self._opened_at is not None:
                return
            self._opened_at = self.clock()
        metrics.REDIS_BREAKER_OPEN.labels(self.name).set(1)
        metrics.REDIS_BREAKER_TRIPS.labels(self.name).inc()
        log.warning(
            "Redis %s: %s; skipping it for at least %.1f s", self.name, type(exc).__name__, self.open_s
        )
        if self.background:
            self._start_prober()

    def close(self) -> None:
        """Use Redis again."""
        with self._lock:
            was_open, self._opened_at = self._opened_at is not None, None
        metrics.REDIS_BREAKER_OPEN.labels(self.name).set(0)
        self._wake.set()
        if was_open:
            log.info("Redis %s answers again: circuit breaker closed", self.name)

    def probe_once(self) -> bool:
        """PING once the breaker has been open ``open_s``; close it if Redis answers. True when closed."""
        opened_at = self._opened_at
        if opened_at is None:
            return True
        if self.clock() - opened_at < self.open_s:
            return False
        try:
            self.probe()
        except Exception as exc:  # noqa: BLE001 - any failure of the probe means "still away"
            log.debug("Redis %s probe failed: %s", self.name, exc)
            return False
        self.close()
        return True

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Open the breaker when the enclosed Redis I/O times out or is refused."""
        try:
            yield
        except CircuitOpen:
            raise
        except _ANSWERED:
            raise
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.record_failure(exc)
            raise

    def connection_class(self, base: type[AbstractConnection]) -> type[AbstractConnection]:
        """A subclass of redis-py's ``base`` connection that goes through this breaker."""
        return type(f"Breaker{base.__name__}", (_BreakerConnectionMixin, base), {"breaker": self})

    def reset_after_fork(self) -> None:
        """A forked child starts closed with no prober (threads do not survive a fork)."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        self._opened_at = None

    def _start_prober(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._wake.set()
                return
            self._thread = threading.Thread(target=self._run, name=f"redis-breaker-{self.name}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while self._opened_at is not None:
            self._wake.wait(self.probe_interval_s)
            self._wake.clear()
            self.probe_once()


class _BreakerConnectionMixin:
    """Checks the breaker before connecting or sending, and trips it on timeouts and refusals.

    Plain commands, pipelines (one ``send_packed_command`` of all commands) and scripts
    (``EVALSHA`` through ``execute_command``) all pass through these three methods.
    """

    breaker: ClassVar[CircuitBreaker]

    def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        self.breaker.check()
        with self.breaker.watch():
            super().connect_check_health(*args, **kwargs)  # type: ignore[misc]

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        self.breaker.check()
        with self.breaker.watch():
            super().send_packed_command(command, check_health)  # type: ignore[misc]

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        with self.breaker.watch():
            return super().read_response(*args, **kwargs)  # type: ignore[misc]


def node_connection_class(
    base: type[AbstractConnection], *, open_s: float, probe_interval_s: float, probe_timeout_s: float
) -> type[AbstractConnection]:
    """A connection class whose breaker is that of the node it connects to (Redis Cluster nodes).

    A cluster client builds one pool per node from one class; each node gets its own breaker, so
    a dead master costs only the users whose slots it serves.
    """

    def breaker(self: AbstractConnection) -> CircuitBreaker:
        found = self.__dict__.get("_breaker")
        if found is None:
            url = f"redis://{self.host}:{self.port}/0"  # type: ignore[attr-defined]
            found = breaker_for(
                url, open_s=open_s, probe_interval_s=probe_interval_s, probe_timeout_s=probe_timeout_s
            )
            self.__dict__["_breaker"] = found
        return found

    return type(
        f"NodeBreaker{base.__name__}", (_BreakerConnectionMixin, base), {"breaker": property(breaker)}
    )


def known_breaker(name: str) -> CircuitBreaker | None:
    """The process's breaker of server ``host:port``, if one was made."""
    return _breakers.get(name)


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def server_name(url: str) -> str:
    """``host:port`` (or the socket path) of a Redis URL: one breaker per server, whatever the db."""
    options = redis.connection.parse_url(url)
    return options.get("path") or f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def breaker_for(
    url: str, *, open_s: float, probe_interval_s: float, probe_timeout_s: float
) -> CircuitBreaker:
    """The process's breaker for the server of ``url`` (created on first use)."""
    name = server_name(url)
    with _registry_lock:
        breaker = _breakers.get(name)
        if breaker is None:
            # The probe has its own plain connection: it must reach Redis while the breaker is open.
            probe_client = redis.Redis.from_url(
                url,
                socket_timeout=probe_timeout_s,
                socket_connect_timeout=probe_timeout_s,
                retry=Retry(NoBackoff(), 0),
            )
            breaker = CircuitBreaker(
                name, probe_client.ping, open_s=open_s, probe_interval_s=probe_interval_s
            )
            _breakers[name] = breaker
        return breaker


def _reset_all_after_fork() -> None:
    global _registry_lock  # noqa: PLW0603 - a lock held at fork time would stay held in the child
    _registry_lock = threading.Lock()
    for breaker in _breakers.values():
        breaker.reset_after_fork()


os.register_at_fork(after_in_child=_reset_all_after_fork)
