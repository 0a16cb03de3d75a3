"""The ``memcache`` command, run for real (``.venv/bin/memcache`` in a subprocess) as a client of the API.

The API is the suite's session ``app`` served by werkzeug in a thread of this process, on a free
port: the same Flask app gunicorn serves, with the session's Redis, PostgreSQL and Mem0, and tasks
run by the session's in-process worker. That keeps the module fast (no second Mem0 build); the
real gunicorn is exercised by test_broker_down.py. Nothing here is mocked.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.serving import make_server

from memcache_platform.dev.servers import RedisServer, free_port
from tests.conftest import ADMIN_KEY, API_KEY

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
MEMCACHE = str(Path(sys.executable).parent / "memcache")
COMMANDS = ("warm", "warm-all", "status", "add", "search", "users", "import", "dev", "db")
DATA_COMMANDS = ("warm", "warm-all", "status", "add", "search", "users", "import")


@pytest.fixture(scope="module")
def api_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The session app, served over real HTTP on a free port for the module."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def env(api_url: str) -> dict[str, str]:
    """The shell of a user who pointed the CLI at the platform."""
    return os.environ | {"MEMCACHE_API_URL": api_url, "MEMCACHE_API_KEY": ADMIN_KEY}


def memcache(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``memcache ARGS`` as a separate process; its exit status and output."""
    return subprocess.run(
        [MEMCACHE, *args],
        cwd=ROOT,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok_json(proc: subprocess.CompletedProcess[str]) -> Any:
    """The one JSON document of a successful run."""
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def closed_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


# --- help, version ---------------------------------------------------------------------------------


def test_help_lists_every_command_with_examples() -> None:
    proc = memcache("--help")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)
    for command in DATA_COMMANDS:
        sub = memcache(command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "--json" in sub.stdout
        assert f"Examples:\n    memcache {command}" in sub.stdout


def test_version() -> None:
    from importlib.metadata import version

    proc = memcache("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"memcache {version('memcache-platform')}"


# --- against the running platform ----------------------------------------------------------------------


def test_add_then_search_answers_and_the_second_search_is_an_l2_hit(
    platform, celery_worker, user_id, env
) -> None:
    added = ok_json(memcache("add", user_id, "I love pho", "--json", env=env))
    assert [m["memory"] for m in added["memories"]] == ["Likes pho"]
    assert added["cache"]["handoff"] in ("queued", "coalesced")
    assert added["cache"]["watermark"] == platform.watermarks.current(user_id)
    # The hand-off's rebuild publishes a new L2 generation: let it finish, so it cannot race the searches.
    ok_json(memcache("warm", user_id, "--wait", "--json", env=env))
    first = ok_json(memcache("search", user_id, "food", "--json", env=env))
    assert "Likes pho" in [r["memory"] for r in first["results"]]
    started = time.monotonic()
    second = memcache("search", user_id, "food", env=env)
    elapsed = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == "tier: L2"
    assert "Likes pho" in second.stdout
    # Building Mem0 in the shell took 9-10 s per command: this bound fails if the CLI does it again.
    assert elapsed < 5, f"an L2 hit took {elapsed:.1f} s through the CLI"


def test_data_commands_import_no_platform_internals(user_id, env) -> None:
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from memcache_platform.cli import main\n"
        f"for args in (['status', '{user_id}'], ['search', '{user_id}', 'food'], ['users']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "heavy = {'mem0', 'celery', 'torch', 'redis', 'sqlalchemy', 'kombu', 'sentence_transformers'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_it_says_which_platform_it_uses_on_stderr(platform, user_id, write, env, api_url) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("status", user_id, "--json", env=env)
    assert f"using {api_url} (MEMCACHE_API_URL; key from MEMCACHE_API_KEY)" in proc.stderr
    assert json.loads(proc.stdout)["user_id"] == user_id  # stdout is the document alone
    quiet = memcache("--quiet", "status", user_id, "--json", env=env)
    assert quiet.stderr == ""


def test_status_json_reports_the_watermark(platform, user_id, write, env) -> None:
    write(user_id, "My favourite food is pho")
    data = ok_json(memcache("status", user_id, "--json", env=env))
    assert data["user_id"] == user_id
    assert data["watermark"] == platform.watermarks.current(user_id)
    assert data["stale"] is True  # nothing rebuilt the user yet
    assert data["built_from"] is None
    assert data["tiers"] == {"redis": "ok", "l3": "ok"}


def test_status_renders_a_table(platform, user_id, write, env) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("status", user_id, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = dict(line.split(None, 1) for line in proc.stdout.splitlines() if line and line[0] != " ")
    assert rows["user"].strip() == user_id
    assert rows["watermark"].strip() == str(platform.watermarks.current(user_id))
    assert rows["stale"].strip() == "yes"
    assert "hot queries" in proc.stdout


def test_warm_waits_for_the_rebuild(platform, celery_worker, user_id, write, env) -> None:
    write(user_id, "My favourite food is pho")
    data = ok_json(memcache("warm", user_id, "--wait", "--json", env=env))
    assert data["state"] == "SUCCESS"
    assert data["result"]["outcome"] == "rebuilt"
    assert data["result"]["user_id"] == user_id
    entry = platform.l3.get(user_id)
    assert entry is not None
    assert entry.built_from_watermark == platform.watermarks.current(user_id)


def test_warm_without_wait_prints_the_task_id(platform, celery_worker, user_id, write, wait_for, env) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("warm", user_id, env=env)
    assert proc.returncode == 0, proc.stderr
    task_id = proc.stdout.split()[1].rstrip(":")
    assert wait_for(lambda: platform.warming.task(task_id)["state"] == "SUCCESS", timeout=60)


def test_warm_all_waits_for_the_sweep(platform, celery_worker, user_id, write, no_sweep_running, env) -> None:
    write(user_id, "My favourite food is pho")
    data = ok_json(memcache("warm-all", "--wait", "--json", env=env))
    summary = data["summary"]
    assert summary["total"] >= 1
    assert "finished_at" in summary
    assert summary["sweep_id"] == data["task_id"]
    assert summary["done"] + summary["failed"] == summary["dirty"] + summary["aged"]
    assert platform.l3.get(user_id) is not None


def test_warm_all_progress_bar_finishes_without_a_tty(
    platform, celery_worker, user_id, write, no_sweep_running, env
) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("warm-all", "--wait", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "sweep" in proc.stderr  # the bar's label, on stderr
    rows = dict(line.split(None, 1) for line in proc.stdout.splitlines()[1:] if line.strip())
    assert int(rows["total"]) >= 1
    assert {"dirty", "aged", "skipped", "rebuilt", "failed"} <= rows.keys()


def test_users_lists_a_user_only_in_l4(platform, user_id, write, env) -> None:
    write(user_id, "My favourite food is pho")  # registers nowhere but L4
    assert user_id in ok_json(memcache("users", "--json", env=env))
    assert user_id in memcache("users", env=env).stdout.splitlines()


def test_search_limit_is_what_the_api_accepts(platform, user_id, write, env) -> None:
    write(user_id, "My favourite food is pho")
    assert ok_json(memcache("search", user_id, "food", "--limit", "50", "--json", env=env))["results"]
    refused = memcache(
        "search", user_id, "food", "--limit", "51", env=env | {"MEMCACHE_API_URL": closed_url()}
    )
    assert refused.returncode == 2
    assert "51 is not in 1..50" in refused.stderr
    assert "using" not in refused.stderr  # refused before any platform was looked for


def test_api_errors_are_printed_with_their_code(env) -> None:
    proc = memcache("warm-all", env=env | {"MEMCACHE_API_KEY": API_KEY})  # not an admin key
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == "Error: this route needs an admin API key (forbidden)"
    data = json.loads(memcache("users", "--json", env=env | {"MEMCACHE_API_KEY": "wrong"}).stdout)
    assert data == {"error": {"code": "unauthorized", "message": "invalid API key"}}


@pytest.mark.parametrize("command", [("status",), ("warm", "--wait"), ("search", "food")])
def test_bad_user_id_is_an_error_not_a_traceback(command: tuple[str, ...]) -> None:
    name, *rest = command
    proc = memcache(name, "bad user!", *rest, env=os.environ | {"MEMCACHE_API_URL": closed_url()})
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].endswith("(invalid_user_id)")  # checked before calling anyone
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_bad_user_id_in_json_mode() -> None:
    proc = memcache("status", "bad user!", "--json", env=os.environ | {"MEMCACHE_API_URL": closed_url()})
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "invalid_user_id"
    assert error["message"]


# --- no platform there -----------------------------------------------------------------------------


@pytest.fixture
def bystander_redis(tmp_path: Path) -> Iterator[redis.Redis]:
    """A Redis the shell's settings name as cache, broker and results: the CLI must leave it alone."""
    server = RedisServer(tmp_path / "redis").start()
    client = redis.Redis.from_url(server.url)
    try:
        yield client
    finally:
        client.close()
        server.stop()


NO_PLATFORM_RUNS = [
    ("add", "alice", "I love pho"),
    ("search", "alice", "food"),
    ("status", "alice"),
    ("warm", "alice"),
    ("warm", "alice", "--wait"),
    ("warm-all",),
    ("warm-all", "--wait", "--json"),
    ("users",),
]


def test_with_no_platform_every_data_command_fails_fast_and_touches_no_redis(bystander_redis) -> None:
    url = bystander_redis.connection_pool.connection_kwargs
    redis_url = f"redis://{url['host']}:{url['port']}"
    connections = bystander_redis.info("stats")["total_connections_received"]
    api = closed_url()
    env = os.environ | {
        "MEMCACHE_API_URL": api,
        "MEMCACHE_API_KEY": ADMIN_KEY,
        "MEMCACHE_REDIS_URL": f"{redis_url}/0",
        "MEMCACHE_BROKER_URL": f"{redis_url}/1",
        "MEMCACHE_RESULT_BACKEND": f"{redis_url}/2",
    }
    message = f"no platform answers at {api} — start it with `make run` or set MEMCACHE_API_URL"
    for args in NO_PLATFORM_RUNS:
        started = time.monotonic()
        proc = memcache(*args, env=env, timeout=30)
        elapsed = time.monotonic() - started
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert elapsed < 3, f"{args} took {elapsed:.1f} s to fail"
        assert "Traceback" not in proc.stderr
        if "--json" in args:
            assert json.loads(proc.stdout) == {"error": {"code": "platform_unreachable", "message": message}}
        else:
            assert proc.stderr.splitlines()[-1] == f"Error: {message} (platform_unreachable)", args
    assert bystander_redis.info("stats")["total_connections_received"] == connections  # no one came
    for db in range(5):  # nothing enqueued, no watermark, no result: every database the settings name
        assert redis.Redis(host=url["host"], port=url["port"], db=db).dbsize() == 0, db


def test_the_default_address_is_named_when_nothing_listens_there() -> None:
    bind = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k != "MEMCACHE_API_URL"} | {"MEMCACHE_BIND": bind}
    proc = memcache("status", "alice", env=env | {"MEMCACHE_API_KEY": ADMIN_KEY})
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == f"using http://{bind} (MEMCACHE_BIND; key from MEMCACHE_API_KEY)"
    assert f"no platform answers at http://{bind}" in proc.stderr


def test_no_api_key_anywhere_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("API_KEY", "API_KEYS"))}
    env |= {"MEMCACHE_API_URL": closed_url(), "MEMCACHE_VAR_DIR": str(tmp_path)}  # no var/dev-api-key
    proc = memcache("users", env=env)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].endswith("(no_api_key)")
    assert "MEMCACHE_API_KEY" in proc.stderr


def test_make_runs_key_and_env_file_are_found_under_var(
    tmp_path: Path, env: dict[str, str], api_url: str
) -> None:
    env = {k: v for k, v in env.items() if not k.endswith(("API_KEY", "API_KEYS", "API_URL"))}
    (tmp_path / "dev-api-key").write_text(ADMIN_KEY + "\n")  # as make run leaves them
    (tmp_path / "embedded.env").write_text(
        f"MEMCACHE_ADMIN_API_KEYS={ADMIN_KEY}\nMEMCACHE_API_URL={api_url}\n"
    )
    proc = memcache("users", "--json", env=env | {"MEMCACHE_VAR_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == (
        f"using {api_url} (MEMCACHE_API_URL in .env or var/embedded.env; key from var/dev-api-key)"
    )
    assert isinstance(json.loads(proc.stdout), list)


def test_warm_wait_never_hangs_past_its_timeout_on_a_silent_platform() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = os.environ | {"MEMCACHE_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        started = time.monotonic()
        proc = memcache(
            "warm", "alice", "--wait", "--timeout", "1", "--json", env=env | {"MEMCACHE_API_KEY": "k"}
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["error"]["code"] == "timeout"
    assert elapsed < 3, f"--timeout 1 took {elapsed:.1f} s"


def test_a_server_that_is_not_the_platform_is_named(tmp_path: Path) -> None:
    def not_the_platform(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("404 Not Found", [("Content-Type", "text/html")])
        return [b"<h1>hello</h1>"]

    server = make_server("127.0.0.1", free_port(), not_the_platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = os.environ | {
            "MEMCACHE_API_URL": f"http://127.0.0.1:{server.server_port}",
            "MEMCACHE_API_KEY": "k",
        }
        proc = memcache("status", "alice", env=env)
    finally:
        server.shutdown()
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].endswith("(not_a_platform)")


# --- dev/db commands touch servers directly, and say which -----------------------------------------------


def test_db_upgrade_names_the_database_it_migrates() -> None:
    proc = memcache("db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("using postgresql://")
    assert "(MEMCACHE_DATABASE_URL)" in proc.stderr
    assert proc.stdout.strip() == "L3 schema at head"
