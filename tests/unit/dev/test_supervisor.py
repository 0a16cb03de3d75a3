"""The supervisor of ``make run``: an exiting process is restarted with backoff, counted, the others
keep running, and SIGINT stops everything. Real processes from a small Procfile; nothing mocked."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

SCRIPT = """
import sys
from pathlib import Path
from memcache_platform.dev.supervisor import run_procfile
d = Path(sys.argv[1])
sys.exit(run_procfile(d / "Procfile", d, {"PATH": "/usr/bin:/bin"}, d / "state.json"))
"""


def _state(tmp_path: Path) -> dict:
    try:
        return json.loads((tmp_path / "state.json").read_text())["processes"]
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _wait(probe, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_exiting_process_is_restarted_with_backoff_and_the_others_keep_running(tmp_path):
    (tmp_path / "Procfile").write_text("crash: sh -c 'sleep 0.2; exit 3'\nsteady: sleep 120\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert _wait(lambda: _state(tmp_path).get("steady.1", {}).get("running"))
        steady_pid = _state(tmp_path)["steady.1"]["pid"]
        started = time.monotonic()
        assert _wait(lambda: _state(tmp_path).get("crash.1", {}).get("restarts", 0) >= 3, timeout=20)
        # Backoff: 1 s, 2 s, 4 s between the restarts of a process that keeps failing at once.
        assert time.monotonic() - started >= 1 + 2
        state = _state(tmp_path)
        assert state["crash.1"]["last_exit"]["rc"] == 3
        assert state["steady.1"] == {"pid": steady_pid, "running": True, "restarts": 0, "last_exit": None}
        assert psutil.pid_exists(steady_pid)
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 130  # honcho's code for SIGINT
    for printed in ("crash.1 exited (rc=3)", "restarting in 2 s", "restarting crash.1 (restart #3)"):
        assert printed in out
    assert not psutil.pid_exists(steady_pid) or psutil.Process(steady_pid).status() == psutil.STATUS_ZOMBIE
