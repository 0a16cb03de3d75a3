"""The one settings object, read from ``MEMCACHE_*`` environment variables.

Precedence (highest first): environment variables, ``.env`` in the working
directory, ``var/embedded.env`` (written by ``make run`` with the addresses of
the embedded Redis and PostgreSQL it started), then the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where `make run` keeps its servers, keys and state; a second tree (the fault tests) sets its own.
VAR_DIR = Path(os.environ.get("MEMCACHE_VAR_DIR") or PROJECT_ROOT / "var").resolve()
EMBEDDED_ENV_FILE = VAR_DIR / "embedded.env"

CommaList = Annotated[list[str], NoDecode]


def _redis_db_url(url: str, db: int) -> str:
    """The same Redis server as ``url`` but logical database ``db``."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return url
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


class Settings(BaseSettings):
    """Every setting of the platform; each has a working local default."""

    model_config = SettingsConfigDict(
        env_prefix="MEMCACHE_",
        env_file=(EMBEDDED_ENV_FILE, ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- servers -----------------------------------------------------------
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for L1/L2 and watermarks.")
    redis_cluster: bool = Field(
        False,
        description="redis_url names any seed node of a Redis Cluster; needs its own broker_url"
        " (Celery has no cluster transport).",
    )
    broker_url: str | None = Field(None, description="Celery broker; default: redis_url, database 1.")
    result_backend: str | None = Field(None, description="Celery results; default: redis_url, database 2.")
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/memcache", description="PostgreSQL for L3 (libpq URL)."
    )
    mem0_database_url: str | None = Field(
        None, description="PostgreSQL with pgvector for Mem0 (L4); default: database_url."
    )

    # --- Mem0 (L4) ------------------------------------------------------------
    mem0_backend: Literal["local", "hosted"] = "local"
    mem0_collection: str = "memcache_memories"
    mem0_dir: Path = VAR_DIR / "mem0"
    mem0_api_key: str | None = Field(None, description="Hosted backend only.")
    mem0_host: str | None = Field(None, description="Hosted backend only (default: Mem0's own).")
    mem0_timeout_s: float = Field(10.0, gt=0, description="Upper bound of any single Mem0 call.")
    mem0_get_all_limit: int = Field(10_000, gt=0, description="Most memories read per user in a rebuild.")
    mem0_event_poll_s: float = Field(
        0.25, gt=0, description="Hosted async adds: first wait before the worker asks for the event's state."
    )
    mem0_event_poll_max_s: float = Field(
        5.0, gt=0, description="Hosted async adds: longest wait between two polls (the backoff doubles)."
    )
    mem0_event_deadline_s: float = Field(
        900.0, gt=0, description="Hosted async adds: stop following an event this long after it was accepted."
    )
    mem0_strict_event_wait_s: float = Field(
        10.0,
        ge=0,
        description="Strict writes behind the hosted backend: how long the request waits for its queued "
        "adds before answering 202 pending (the worker follows them then).",
    )
    mem0_pending_ttl_s: int = Field(
        1800, gt=0, description="Life of a user's pending-event marker (searches bypass L2 while it is set)."
    )
    mem0_compat_async_default: bool = Field(
        False,
        description="Mem0-compatible add without async_mode: process in the background (the hosted default).",
    )
    mem0_compat_async_workers: int = Field(
        2, gt=0, description="Threads per web process that run async-mode adds of the Mem0-compatible API."
    )
    extractor: Literal["rules", "llm"] = "rules"
    llm_provider: str = "openai"
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None

    # --- write path ------------------------------------------------------------
    write_mode: Literal["async", "strict"] = "async"
    handoff_timeout_s: float = Field(0.5, gt=0, description="Upper bound of the hand-off after a write.")
    cache_timeout_s: float = Field(0.25, gt=0, description="Socket timeout of best-effort Redis calls.")
    redis_breaker_open_s: float = Field(
        2.0, ge=0, description="After a Redis timeout or refusal, skip Redis at least this long (0: off)."
    )
    redis_breaker_probe_s: float = Field(
        0.5, gt=0, description="Then PING it this often in the background; the first answer closes it."
    )
    readiness_timeout_s: float = Field(
        0.7, gt=0, le=5, description="/readyz: each dependency check's bound (they run in parallel)."
    )
    outbox_size: int = Field(10_000, ge=0, description="Failed hand-offs kept per API process for retry.")
    dirty_mark_timeout_s: float = Field(
        0.3, gt=0, description="Bound of the durable dirty mark (PostgreSQL) an outbox hand-off writes."
    )

    # --- read path (L1, L2) and rebuilds -----------------------------------------
    l1_ttl_s: int = Field(7 * 24 * 3600, gt=0, description="L1 embedding TTL; slides on each hit.")
    l2_ttl_s: int = Field(24 * 3600, gt=0, description="L2 result TTL (old generations expire with it).")
    search_max_limit: int = Field(50, gt=0)
    query_max_chars: int = Field(500, gt=0)
    search_lease_ms: int = Field(3000, gt=0, description="Single flight: how long a miss owns its query.")
    search_wait_ms: int = Field(1500, ge=0, description="Single flight: how long others wait for it.")
    hot_queries_top_n: int = Field(10, ge=0, description="Hot queries per user warmed into L2 by a rebuild.")
    hot_query_half_life_s: float = Field(24 * 3600, gt=0, description="Decay of a query's hotness.")
    rebuild_lock_ttl_s: int = Field(
        30, ge=5, description="Coalescing lock, renewed as a rebuild progresses; a dead rebuild's lapses."
    )
    pending_ttl_s: int = Field(60, gt=0, description="A lost hand-off blocks new ones at most this long.")
    rebuild_settle_ms: int = Field(100, ge=0, description="Wait for a burst of writes to end ...")
    rebuild_max_delay_ms: int = Field(1000, ge=0, description="... but never longer than this.")

    # --- the all-users sweep (Celery beat) -----------------------------------------
    sweep_interval_s: float = Field(300, gt=0, description="How often beat runs run_proactive_caching_job.")
    sweep_max_age_s: float = Field(3600, gt=0, description="A clean user's build older than this is rebuilt.")
    sweep_chunk_size: int = Field(50, gt=0, description="Users per rebuild task the sweep fans out.")
    sweep_rate_limit: str = Field(
        "120/m", description="Celery rate limit of those tasks, per worker ('' none)."
    )
    sweep_lock_ttl_s: int = Field(900, gt=0, description="One sweep at a time; a dead sweep's claim lapses.")
    sweep_reconcile_interval_s: float = Field(
        3600,
        ge=0,
        description="How often a sweep also reads Mem0's whole table (L4-only users, L4 counts); 0: each.",
    )
    redbeat_lock_timeout_s: int = Field(
        55, ge=3, le=60, description="A dead beat's successor takes over within this plus one beat tick."
    )

    # --- HTTP API ------------------------------------------------------------
    api_keys: CommaList = Field(default_factory=list, description="Bearer keys for data routes.")
    admin_api_keys: CommaList = Field(default_factory=list, description="Keys that may call admin routes.")
    max_body_bytes: int = Field(64 * 1024, gt=0)
    max_messages: int = Field(50, gt=0)
    max_message_chars: int = Field(4000, gt=0)
    import_max_batch: int = Field(
        100, gt=0, le=1000, description="Most records in one POST /v1/users/{id}/memories/batch."
    )

    # --- the `memcache` command: a client of the HTTP API (memcache_platform/cli/client.py) ------
    api_url: str | None = Field(
        None, description="Platform the CLI calls; default: http:// + MEMCACHE_BIND, else 127.0.0.1:8000."
    )
    api_key: str | None = Field(
        None, description="Key the CLI sends; default: first admin key, first API key, var/dev-api-key."
    )

    # --- rate limits per end user and per API key (Flask-Limiter syntax, ';' joins limits) ---------
    # A key is an application serving all its users: its budgets sit above this machine's capacity
    # (about 40 writes/s and 400 L2-hit searches/s on 2 cores), a user's well below it.
    rate_limit_enabled: bool = True
    rate_limit_writes: str = Field("6000/minute", description="Writes and deletes per key, all its users.")
    rate_limit_searches: str = Field("60000/minute", description="Searches per key, all its users.")
    rate_limit_user_writes: str = Field(
        "10/second;300/minute", description="Writes and deletes per end user (user_id), whatever the key."
    )
    rate_limit_user_searches: str = Field(
        "20/second;600/minute", description="Searches per end user (user_id), whatever the key."
    )
    rate_limit_bulk: str = Field(
        "60/minute", description="Admin and bulk calls per key: warm, warm-all, erase a user, delete_all."
    )

    # --- Celery ------------------------------------------------------------
    # Task retries are declared once, on the task base class (tasks/base.py), not here.
    flower_basic_auth: str | None = Field(None, description="user:password for Flower.")
    broker_visibility_timeout_s: int = Field(
        300,
        ge=10,
        description="Redis broker: a dead worker's unacked task is redelivered after this; keep it above"
        " the longest task plus the longest retry countdown (60 s), else those run twice.",
    )
    broker_sentinel_master: str = Field(
        "mymaster",
        description="Master name at the Sentinels when broker_url is sentinel://h1:p1;sentinel://h2:p2.",
    )

    log_level: str = "INFO"

    @field_validator("api_keys", "admin_api_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _cluster_needs_a_broker(self) -> Settings:
        # A cluster has database 0 only and Celery/kombu/RedBeat have no cluster transport.
        if self.redis_cluster and not self.broker_url:
            raise ValueError(
                "MEMCACHE_REDIS_CLUSTER=true needs MEMCACHE_BROKER_URL: a plain Redis or sentinel:// URL"
                " for Celery's broker (Celery has no Redis Cluster transport)"
            )
        return self

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or _redis_db_url(self.redis_url, 1)

    @property
    def _broker_side_url(self) -> str:
        """The Redis that holds Celery's other databases: the cache's, or the broker's on a cluster."""
        return self.effective_broker_url if self.redis_cluster else self.redis_url

    @property
    def effective_result_backend(self) -> str:
        return self.result_backend or _redis_db_url(self._broker_side_url, 2)

    @property
    def rate_limit_storage_url(self) -> str:
        if self.redis_cluster:  # limits' RedisClusterStorage on a lazy client; keys carry a LIMITS: prefix
            return "memcache+cluster://" + urlsplit(self.redis_url).netloc
        return _redis_db_url(self.redis_url, 4)

    @property
    def redbeat_redis_url(self) -> str:
        return _redis_db_url(self._broker_side_url, 3)

    @property
    def effective_mem0_database_url(self) -> str:
        return self.mem0_database_url or self.database_url

    @property
    def sqlalchemy_url(self) -> str:
        """``database_url`` with the psycopg 3 driver named, as SQLAlchemy wants it."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cleared by tests with ``get_settings.cache_clear()``)."""
    return Settings()
