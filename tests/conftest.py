"""Shared test set-up: real Redis and PostgreSQL (embedded, under var/test/), real Mem0, one real worker.

The servers start once per pytest process, in ``pytest_configure``, so that every module, even one
importing ``tasks`` at collection time, sees their URLs in the settings.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from memcache_platform.dev.servers import PostgresServer, RedisServer

# One folder per pytest process: concurrent runs (a developer's and CI's) never share servers.
TEST_VAR = Path(__file__).resolve().parent.parent / "var" / "test" / f"run-{os.getpid()}"
API_KEY = "test-key"
ADMIN_KEY = "test-admin-key"
TENANT_KEY = "test-tenant-key"  # users whose id starts with "acme-"
PAIR_KEY = "test-pair-key"  # users "alice" and "bob" only
RATE_KEY = "test-rate-key"  # used only by the rate-limit tests, so its counters start at zero
_servers: dict[str, RedisServer | PostgresServer] = {}


def pytest_configure(config: pytest.Config) -> None:
    TEST_VAR.mkdir(parents=True, exist_ok=True)
    redis_server = RedisServer(TEST_VAR / "redis").start()
    # The broker and results get a Redis of their own: outage tests stop the cache Redis for real,
    # and the session's in-process worker must not lose its broker (it did not always come back).
    broker = RedisServer(TEST_VAR / "redis-broker").start()
    pg = PostgresServer(TEST_VAR / "pg").start()
    _servers.update(redis=redis_server, broker=broker, pg=pg)
    os.environ.update(
        MEMCACHE_REDIS_URL=redis_server.url,
        MEMCACHE_BROKER_URL=broker.url.replace("/0", "/1"),
        MEMCACHE_RESULT_BACKEND=broker.url.replace("/0", "/2"),
        MEMCACHE_DATABASE_URL=pg.create_database("memcache_test", drop_first=True),
        MEMCACHE_MEM0_DIR=str(TEST_VAR / "mem0"),
        MEMCACHE_API_KEYS=f"{API_KEY},{TENANT_KEY}=acme-*,{PAIR_KEY}=alice|bob,{RATE_KEY}",
        MEMCACHE_ADMIN_API_KEYS=ADMIN_KEY,
        MEMCACHE_MEM0_TIMEOUT_S="30",
        # The suite writes far faster than a user would; test_rate_limits lowers these itself.
        MEMCACHE_RATE_LIMIT_WRITES="1000000/minute",
        MEMCACHE_RATE_LIMIT_SEARCHES="1000000/minute",
        MEMCACHE_RATE_LIMIT_USER_WRITES="1000000/minute",
        MEMCACHE_RATE_LIMIT_USER_SEARCHES="1000000/minute",
        MEMCACHE_RATE_LIMIT_BULK="1000000/minute",
        MEMCACHE_SWEEP_RATE_LIMIT="",  # fuzzed warm-alls must not leave a rate-limited backlog
        # Every sweep reconciles with L4, as the tests of lost writes expect; tests of the rare
        # reconciliation build their own planner (tests/integration/services/test_sweep_stream.py).
        MEMCACHE_SWEEP_RECONCILE_INTERVAL_S="0",
    )
    from config.settings import get_settings
    from memcache_platform.db.migrate import upgrade

    get_settings.cache_clear()
    upgrade(get_settings().sqlalchemy_url)


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in _servers.values():
        server.stop()
    shutil.rmtree(TEST_VAR, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> RedisServer:
    return _servers["redis"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    return _servers["pg"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def platform():  # type: ignore[no-untyped-def]
    """The process's platform, with Mem0 built once for the whole session."""
    from memcache_platform.wiring import get_platform

    p = get_platform()
    p.mem0  # noqa: B018 - build it now, outside any test's timing
    return p


@pytest.fixture(scope="session")
def celery_worker(platform):  # type: ignore[no-untyped-def]
    """One real Celery worker for the session, in this process, against the real broker."""
    from celery.contrib.testing.worker import start_worker

    from tasks import app

    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=30,
        queues=["handoff", "sweep", "celery"],
    ) as worker:
        yield worker


@pytest.fixture(scope="session")
def app(platform):  # type: ignore[no-untyped-def]
    from memcache_platform.api import create_app

    flask_app = create_app()
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def user_id() -> str:
    """A user of this test only, so tests never see each other's memories."""
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def wait_for():  # type: ignore[no-untyped-def]
    """Poll ``probe`` until it returns a truthy value or ``timeout`` passes (a wait, not a timing check)."""
    import time

    def _wait(probe, timeout: float = 15.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    return _wait


@pytest.fixture(scope="session")
def write(platform):  # type: ignore[no-untyped-def]
    """Write a user message through the real extraction and watermark, but enqueue no rebuild.

    For tests that drive rebuilds themselves and must not race the session worker.
    """
    from memcache_platform.services.extraction import ExtractionService
    from memcache_platform.services.handoff import Handoff

    service = ExtractionService(platform.mem0, Handoff(platform.watermarks, None, lambda _: None, 1.0))

    def _write(user_id: str, text: str):  # type: ignore[no-untyped-def]
        return service.extract_facts(user_id, [{"role": "user", "content": text}])

    return _write


@pytest.fixture
def redis_outage(redis_server, platform, wait_for):  # type: ignore[no-untyped-def]
    """A context manager: Redis really stopped inside it; on exit, restarted and the outbox drained."""
    from contextlib import contextmanager

    from memcache_platform.tiers.redis_client import breaker_of

    @contextmanager
    def _outage():  # type: ignore[no-untyped-def]
        redis_server.stop()
        try:
            yield
        finally:
            redis_server.start()
            breaker = breaker_of(platform.redis)  # later tests must find Redis in use again
            assert breaker is None or wait_for(lambda: not breaker.is_open, timeout=10)
            outbox = platform.handoff.outbox
            outbox.retry_now()
            assert wait_for(lambda: len(outbox) == 0, timeout=30), "outbox did not drain after Redis returned"

    return _outage


@pytest.fixture
def sweep_now(platform, celery_worker, wait_for):  # type: ignore[no-untyped-def]
    """Run a sweep through the worker and return its summary, once any sweep already running is done."""
    from tasks import run_proactive_caching_job

    def _sweep() -> dict:  # type: ignore[type-arg]
        for _ in range(10):
            assert wait_for(lambda: not platform.redis.exists("mc:sweep-running"), timeout=120)
            sweep_id = run_proactive_caching_job.delay().id
            assert wait_for(
                lambda sid=sweep_id: "finished_at" in platform.sweep_progress.read(sid), timeout=120
            )
            summary = platform.sweep_progress.read(sweep_id)
            if "superseded_by" not in summary:
                return summary | {"sweep_id": sweep_id}
        pytest.fail("no sweep of this test's own could run")

    return _sweep


@pytest.fixture
def no_sweep_running(platform, wait_for):  # type: ignore[no-untyped-def]
    """Wait for any sweep started by an earlier test (fuzzing, beat) to finish: sweeps run one at a time."""
    assert wait_for(lambda: not platform.redis.exists("mc:sweep-running"), timeout=120)


class _Configured:
    """The session's platform seen through other settings: same services, a test's limits and keys."""

    def __init__(self, platform, settings) -> None:  # type: ignore[no-untyped-def]
        self._platform = platform
        self.settings = settings

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._platform, name)


@pytest.fixture
def limited(platform):  # type: ignore[no-untyped-def]
    """``limited(**budgets)``: an app, its data key and its admin key; the shipped budgets but ``budgets``.

    An app over the session's platform with settings of the test's own (its own keys, so counters
    start at zero).
    """
    from config.settings import Settings
    from memcache_platform.api import create_app

    def _build(**budgets: str):  # type: ignore[no-untyped-def]
        fields = Settings.model_fields.items()
        defaults = {name: f.default for name, f in fields if name.startswith("rate_limit_")}
        key, admin = f"rate-{uuid.uuid4().hex}", f"rate-admin-{uuid.uuid4().hex}"
        settings = platform.settings.model_copy(
            update=defaults | budgets | {"api_keys": [key], "admin_api_keys": [admin]}
        )
        app = create_app(settings, _Configured(platform, settings))
        return app, {"Authorization": f"Bearer {key}"}, {"Authorization": f"Bearer {admin}"}

    return _build
