"""A real gunicorn as the Procfile runs it (``web``), for tests that need the real web process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def start_gunicorn(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn with the suite's environment plus ``env`` (one worker unless ``env`` says)."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        "python:memcache_platform.dev.gunicorn_conf",
        "memcache_platform.api:create_app()",
    ]
    with log_path.open("wb") as log:  # the child keeps its own handle
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=os.environ | {"MEMCACHE_WEB_WORKERS": "1"} | env,
            stdout=subprocess.DEVNULL,
            stderr=log,  # a file, not a pipe: an unread pipe would fill and stall the server
        )


def wait_until_mem0_ready(
    proc: subprocess.Popen[bytes], base: str, log_path: Path, timeout_s: float = 120
) -> None:
    """Return once ``/readyz`` says Mem0 works; fail (and stop the server) if it exits or never does."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"web process exited: {log_path.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            kill_tree(proc)
            pytest.fail("web process did not become ready")
        try:
            if requests.get(f"{base}/readyz", timeout=2).json()["checks"]["mem0"]["ok"]:
                return
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.5)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a process manager stops it."""
    proc.terminate()
    proc.wait(30)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the master and every worker at once: nothing gets to flush or hand anything off."""
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    for process in tree:
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs(tree, timeout=10)
    proc.wait(10)
