"""The hosted Mem0 platform, stood in for: platform A (``hosted``) → latency proxy → platform B.

B is this platform's Mem0-compatible API with the hosted platform's async mode on
(``mem0_compat_async_default``), serving from a given Mem0 (local backend) in a thread of this
process. A's real ``mem0.MemoryClient`` talks HTTP to B through a ``TcpProxy`` that adds
``latency_s`` (150 ms, a hosted search's cost) to every request and counts them: what A would pay
and be billed. A keeps its own Redis database and L3 database, so A's and B's tiers never mix.

A's tasks (rebuilds, event polls) run in threads here (``InlineTasks``), calling the same service
methods as ``tasks.update_user_favorite_cache`` and ``tasks.follow_mem0_event``: a Celery worker of
the process's usual settings would read the wrong L4. A caller can hold the polls to observe A
while an event is pending. Used by ``tests/e2e/test_hosted_chain.py`` and bench H1.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any

from memcache_platform.dev.tcp_proxy import TcpProxy


class InlineTasks:
    """Platform A's task queue: its rebuilds and event polls, run in threads of this process."""

    def __init__(self) -> None:
        self.platform: Any = None
        self.released = threading.Event()
        self.released.set()
        self.follows: list[concurrent.futures.Future[Any]] = []
        self.rebuilds: list[concurrent.futures.Future[Any]] = []
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="platform-a")

    def enqueue_rebuild(self, user_id: str, *, force: bool = False) -> str:
        self.rebuilds.append(
            self._pool.submit(self.platform.proactive_cache.update_user_favorite_cache, user_id, force=force)
        )
        return "inline"

    def enqueue_follow_event(self, user_id: str, event_id: str, accepted_at: float) -> str:
        def follow() -> Any:
            self.released.wait(60)  # a held "worker": the event stays pending for A meanwhile
            return self.platform.mem0_events.follow(user_id, event_id, accepted_at, time.sleep)

        self.follows.append(self._pool.submit(follow))
        return "inline"

    def finish(self) -> list[Any]:
        """Release the held polls and wait for every one of them; their outcomes."""
        self.released.set()
        outcomes = [f.result(timeout=30) for f in self.follows]
        self.follows.clear()
        return outcomes

    def rebuilt(self, timeout_s: float = 30) -> None:
        """Wait for every rebuild enqueued so far (held polls stay held)."""
        while self.rebuilds:
            self.rebuilds.pop(0).result(timeout=timeout_s)

    def close(self) -> None:
        self.released.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def serve(app: Any) -> tuple[Any, int]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in daemon threads; the server and its port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


class HostedStandIn:
    """B and the latency proxy in front of it: what a platform with ``mem0_backend=hosted`` calls.

    ``host`` (the proxy) is the ``MEMCACHE_MEM0_HOST`` to give it; B accepts the keys of ``base``.
    """

    def __init__(self, base: Any, mem0: Any, *, latency_s: float = 0.15) -> None:
        from memcache_platform.api import create_app
        from memcache_platform.wiring import Platform

        self.b = Platform(base.model_copy(update={"mem0_compat_async_default": True}), mem0=mem0)
        self._server, port_b = serve(create_app(self.b.settings, platform=self.b))
        self.host_b = f"http://127.0.0.1:{port_b}"
        self.proxy = TcpProxy(("127.0.0.1", port_b), latency_s=latency_s)
        self.proxy.set_mode("latency")
        self.host = f"http://127.0.0.1:{self.proxy.port}"

    def close(self) -> None:
        self.proxy.close()
        self._server.shutdown()


class HostedChain:
    """A → proxy → B, built from one platform's settings and Mem0; ``close()`` stops it."""

    def __init__(
        self,
        base: Any,
        mem0: Any,
        *,
        api_key: str,
        redis_url_a: str,
        database_url_a: str,
        latency_s: float = 0.15,
        settings_a: dict[str, Any] | None = None,
        serve_a: bool = False,
    ) -> None:
        """``base``: the settings B runs with; ``settings_a``: overrides of A's (poll waits, …)."""
        from memcache_platform.api import create_app
        from memcache_platform.db.migrate import upgrade
        from memcache_platform.wiring import Platform

        self.stand_in = HostedStandIn(base, mem0, latency_s=latency_s)
        self.b, self.host_b, self.proxy = self.stand_in.b, self.stand_in.host_b, self.stand_in.proxy
        self.host_proxy = self.stand_in.host
        a_settings = base.model_copy(
            update={
                "mem0_backend": "hosted",
                "mem0_api_key": api_key,
                "mem0_host": self.host_proxy,
                "redis_url": redis_url_a,
                "database_url": database_url_a,
            }
            | (settings_a or {})
        )
        upgrade(a_settings.sqlalchemy_url)
        self.tasks = InlineTasks()
        self.a = Platform(a_settings, task_queue=self.tasks)  # type: ignore[arg-type]
        self.tasks.platform = self.a
        self.app_a = create_app(a_settings, platform=self.a)
        self._server_a = None
        self.host_a: str | None = None
        if serve_a:  # over HTTP, as an application would call it (the bench); tests use a test client
            self._server_a, port_a = serve(self.app_a)
            self.host_a = f"http://127.0.0.1:{port_a}"

    def close(self) -> None:
        self.tasks.close()
        self.stand_in.close()
        if self._server_a is not None:
            self._server_a.shutdown()
