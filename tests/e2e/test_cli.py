"""The ``memcache`` command, run for real in a subprocess against the session's servers and worker.

Tasks the subprocess enqueues are executed by the session's in-process Celery worker. Only ``add``
and ``search`` build Mem0 in the subprocess (≈10 s each), so each is run once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memcache_platform.dev.servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("warm", "warm-all", "status", "add", "search", "users", "dev", "db")


def memcache(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``memcache ARGS`` as a separate process; its exit status and output."""
    return subprocess.run(
        [sys.executable, "-m", "memcache_platform.cli", *args],
        cwd=ROOT,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok_json(proc: subprocess.CompletedProcess[str]) -> Any:
    """The one JSON document of a successful run."""
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_help_lists_every_command() -> None:
    proc = memcache("--help")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)
    for command in ("warm", "warm-all", "status", "add", "search", "users"):
        sub = memcache(command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "--json" in sub.stdout


def test_status_json_reports_the_watermark(platform, user_id, write) -> None:
    write(user_id, "My favourite food is pho")
    data = ok_json(memcache("status", user_id, "--json"))
    assert data["user_id"] == user_id
    assert data["watermark"] == platform.watermarks.current(user_id)
    assert data["stale"] is True  # nothing rebuilt the user yet
    assert data["built_from"] is None
    assert data["tiers"] == {"redis": "ok", "l3": "ok"}


def test_status_renders_a_table(platform, user_id, write) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("status", user_id)
    assert proc.returncode == 0, proc.stderr
    assert user_id in proc.stdout
    rows = dict(line.split(None, 1) for line in proc.stdout.splitlines() if line and line[0] != " ")
    assert rows["watermark"].strip() == str(platform.watermarks.current(user_id))
    assert rows["stale"].strip() == "yes"
    assert "hot queries" in proc.stdout


def test_warm_waits_for_the_rebuild(platform, celery_worker, user_id, write) -> None:
    write(user_id, "My favourite food is pho")
    data = ok_json(memcache("warm", user_id, "--wait", "--json"))
    assert data["state"] == "SUCCESS"
    assert data["result"]["outcome"] == "rebuilt"
    assert data["result"]["user_id"] == user_id
    entry = platform.l3.get(user_id)
    assert entry is not None
    assert entry.built_from_watermark == platform.watermarks.current(user_id)


def test_warm_without_wait_prints_the_task_id(platform, celery_worker, user_id, write, wait_for) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("warm", user_id)
    assert proc.returncode == 0, proc.stderr
    task_id = proc.stdout.split()[1].rstrip(":")
    assert wait_for(lambda: platform.warming.task(task_id)["state"] == "SUCCESS", timeout=60)


def test_warm_all_waits_for_the_sweep(platform, celery_worker, user_id, write, no_sweep_running) -> None:
    write(user_id, "My favourite food is pho")
    data = ok_json(memcache("warm-all", "--wait", "--json"))
    summary = data["summary"]
    assert summary["total"] >= 1
    assert "finished_at" in summary
    assert summary["sweep_id"] == data["task_id"]
    assert summary["done"] + summary["failed"] == summary["dirty"] + summary["aged"]
    assert platform.l3.get(user_id) is not None


def test_warm_all_progress_bar_finishes_without_a_tty(
    platform, celery_worker, user_id, write, no_sweep_running
) -> None:
    write(user_id, "My favourite food is pho")
    proc = memcache("warm-all", "--wait")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "sweep" in proc.stderr  # the bar's label, on stderr
    rows = dict(line.split(None, 1) for line in proc.stdout.splitlines()[1:] if line.strip())
    assert int(rows["total"]) >= 1
    assert {"dirty", "aged", "skipped", "rebuilt", "failed"} <= rows.keys()


def test_users_lists_a_user_only_in_l4(platform, user_id, write) -> None:
    write(user_id, "My favourite food is pho")  # registers nowhere but L4: found by reconciliation
    assert user_id in ok_json(memcache("users", "--json"))
    assert user_id in memcache("users").stdout.splitlines()


def test_add_then_search(platform, celery_worker, user_id) -> None:
    added = ok_json(memcache("add", user_id, "I love pho", "--json"))
    assert [m["memory"] for m in added["memories"]] == ["Likes pho"]
    assert added["handoff"]["outcome"] in ("queued", "coalesced")
    assert added["handoff"]["watermark"] == platform.watermarks.current(user_id)
    found = ok_json(memcache("search", user_id, "food", "--json"))
    assert found["tier"] in ("L2", "L4")
    assert "Likes pho" in [r["memory"] for r in found["results"]]


@pytest.mark.parametrize("command", [("status",), ("warm", "--wait"), ("search", "food")])
def test_bad_user_id_is_an_error_not_a_traceback(command: tuple[str, ...]) -> None:
    name, *rest = command
    proc = memcache(name, "bad user!", *rest)
    assert proc.returncode == 1
    assert "Error:" in proc.stderr
    assert "invalid_user_id" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_bad_user_id_in_json_mode() -> None:
    proc = memcache("status", "bad user!", "--json")
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "invalid_user_id"
    assert error["message"]


def test_unreachable_broker_is_an_error(user_id) -> None:
    env = os.environ | {"MEMCACHE_BROKER_URL": f"redis://127.0.0.1:{free_port()}/1"}
    proc = memcache("warm", user_id, env=env)
    assert proc.returncode == 1
    assert "broker_unavailable" in proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(memcache("warm-all", "--json", env=env).stdout)
    assert data["error"]["code"] == "broker_unavailable"
