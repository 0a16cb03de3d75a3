"""``make run``: embedded servers when no URL is configured, migrations, then the Procfile, supervised."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from config.settings import EMBEDDED_ENV_FILE, PROJECT_ROOT, VAR_DIR
from memcache_platform.dev.servers import PostgresServer, RedisServer
from memcache_platform.dev.supervisor import run_procfile

DATABASE = "memcache"


def _secret_file(path: Path, make: str) -> str:
    """A development secret kept under var/ (mode 0600), made once."""
    if not path.exists():
        path.write_text(make)
        path.chmod(0o600)
    return path.read_text().strip()


def _configured(name: str) -> bool:
    return bool(os.environ.get(name))


def start_embedded(env: dict[str, str]) -> list[RedisServer | PostgresServer]:
    """Start the servers whose URL is not configured; put their URLs into ``env``."""
    started: list[RedisServer | PostgresServer] = []
    if not _configured("MEMCACHE_REDIS_URL"):
        redis_server = RedisServer(VAR_DIR / "redis").start()
        started.append(redis_server)
        env["MEMCACHE_REDIS_URL"] = redis_server.url
        click.echo(f"  embedded Redis      {redis_server.url}")
    if not _configured("MEMCACHE_DATABASE_URL"):
        pg = PostgresServer(VAR_DIR / "pg").start()
        started.append(pg)
        env["MEMCACHE_DATABASE_URL"] = pg.create_database(DATABASE)
        click.echo(f"  embedded PostgreSQL {env['MEMCACHE_DATABASE_URL']}")
    return started


def prepare_environment() -> tuple[dict[str, str], list[RedisServer | PostgresServer]]:
    """Everything the Procfile's processes need: servers, keys, the env file, the schema."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "run").mkdir(mode=0o700, exist_ok=True)  # XDG_RUNTIME_DIR and the supervisor's state
    env: dict[str, str] = {}
    servers = start_embedded(env)
    if not (_configured("MEMCACHE_API_KEYS") or _configured("MEMCACHE_ADMIN_API_KEYS")):
        key = _secret_file(VAR_DIR / "dev-api-key", "dev-" + secrets.token_urlsafe(24))
        env["MEMCACHE_API_KEYS"] = env["MEMCACHE_ADMIN_API_KEYS"] = key
    if not _configured("MEMCACHE_FLOWER_BASIC_AUTH"):
        env["MEMCACHE_FLOWER_BASIC_AUTH"] = _secret_file(
            VAR_DIR / "dev-flower-auth", "admin:" + secrets.token_urlsafe(12)
        )
    # Shell commands (`celery -A tasks call …`, `memcache …`) find the embedded servers through this file.
    EMBEDDED_ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
    EMBEDDED_ENV_FILE.chmod(0o600)
    os.environ.update(env)

    from config.settings import get_settings
    from memcache_platform.db.migrate import upgrade

    get_settings.cache_clear()
    upgrade(get_settings().sqlalchemy_url)
    return env, servers


def banner(env: dict[str, str]) -> str:
    """What a newcomer needs to know once everything runs."""
    from config.settings import get_settings

    settings = get_settings()
    key = (settings.admin_api_keys or settings.api_keys or ["<your key>"])[0]
    flower_user = (settings.flower_basic_auth or ":").split(":", 1)[0]
    api = "http://" + os.environ.get("MEMCACHE_BIND", "127.0.0.1:8000")
    flower = "http://127.0.0.1:" + os.environ.get("MEMCACHE_FLOWER_PORT", "5555")
    return f"""
memcache_platform is starting (Mem0 loads in each process: the API answers in ~15 s).
  API      {api}   (GET /readyz, /openapi.json)
  Flower   {flower}   (user {flower_user!r}; var/dev-flower-auth holds user:password, for curl -u)
  API key  {key}
Try:
  curl -s -X POST {api}/v1/users/alice/memories \\
    -H "Authorization: Bearer {key}" -H 'Content-Type: application/json' \\
    -d '{{"messages":[{{"role":"user","content":"My favourite food is pho and I am good at Python"}}]}}'
  curl -s {api}/v1/users/alice/favorites -H "Authorization: Bearer {key}"
Ctrl-C stops everything.
"""


def run_platform() -> int:
    """Prepare, run the Procfile supervised until Ctrl-C or SIGTERM, then stop what was started."""
    click.echo("memcache_platform: preparing servers and schema")
    env, servers = prepare_environment()
    child_env = os.environ.copy()
    if flower_auth := child_env.get("MEMCACHE_FLOWER_BASIC_AUTH"):
        child_env["FLOWER_BASIC_AUTH"] = flower_auth  # read by Flower; never on a command line
    child_env.setdefault("XDG_RUNTIME_DIR", str(VAR_DIR / "run"))
    if not child_env.get("PROMETHEUS_MULTIPROC_DIR"):
        # gunicorn workers and Celery children each write their metrics there; /metrics sums them.
        # prometheus-client requires an empty directory at start: files of a previous run would be summed.
        metrics_dir = VAR_DIR / "prometheus"
        metrics_dir.mkdir(mode=0o700, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        child_env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    child_env["PATH"] = f"{Path(sys.executable).parent}:{child_env.get('PATH', '')}"
    child_env["MEMCACHE_VAR_DIR"] = str(VAR_DIR)  # the Procfile's processes keep their state there too
    click.echo(banner(env))
    try:
        # In this process: Ctrl-C (SIGINT) or SIGTERM stops every process, then the servers below.
        return run_procfile(
            PROJECT_ROOT / "Procfile", PROJECT_ROOT, child_env, VAR_DIR / "run" / "supervisor.json"
        )
    finally:
        for server in reversed(servers):
            server.stop()
        EMBEDDED_ENV_FILE.unlink(missing_ok=True)
