"""Real Flower, as the Procfile starts it: basic auth from the environment, events from the worker.

Flower runs as a subprocess (``celery -A tasks flower``) against the session's broker, with
``FLOWER_BASIC_AUTH`` in its environment and never on its command line.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from memcache_platform.dev.servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "admin", "s3cret"


class Flower:
    def __init__(self, proc: subprocess.Popen[bytes], base: str, log_path: Path):
        self.proc = proc
        self.base = base
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def flower(tmp_path_factory):
    directory = tmp_path_factory.mktemp("flower")
    port = free_port()
    log_path = directory / "flower.log"
    log = log_path.open("wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tasks",
            "flower",
            "--address=127.0.0.1",
            f"--port={port}",
            "--persistent=True",
            f"--db={directory}/flower.db",
        ],
        cwd=ROOT,
        env=os.environ | {"FLOWER_BASIC_AUTH": f"{USER}:{PASSWORD}"},
        stdin=subprocess.DEVNULL,
        stdout=log,  # a file, not a pipe: an unread pipe would fill and stall Flower
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Flower exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            assert time.monotonic() < deadline, f"Flower did not answer: {log_path.read_text()[-2000:]}"
            try:
                if requests.get(f"{base}/healthcheck", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        yield Flower(proc, base, log_path)
    finally:  # never leave Flower behind, whatever failed
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()


def test_healthcheck_needs_no_auth(flower):
    response = requests.get(f"{flower.base}/healthcheck", timeout=5)
    assert response.status_code == 200
    assert response.text.strip() == "OK"


def test_api_needs_basic_auth(flower):
    url = f"{flower.base}/api/workers"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, auth=(USER, "wrong"), timeout=10).status_code == 401
    assert requests.get(url, auth=("someone", PASSWORD), timeout=10).status_code == 401
    response = requests.get(url, auth=(USER, PASSWORD), timeout=10)
    assert response.status_code == 200, flower.log()
    assert isinstance(response.json(), dict)


def test_password_is_not_on_the_command_line(flower):
    cmdline = Path(f"/proc/{flower.proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "flower" in cmdline and "--port=" in cmdline
    assert PASSWORD not in cmdline
    assert "basic-auth" not in cmdline and "basic_auth" not in cmdline


def test_flower_sees_tasks_of_the_worker(flower, celery_worker, platform, user_id):
    """Flower receives the worker's task events: the rebuild shows up with its result."""
    from tasks import update_user_favorite_cache

    def listed(task_id: str) -> dict | None:
        response = requests.get(
            f"{flower.base}/api/tasks",
            params={"taskname": "tasks.update_user_favorite_cache"},
            auth=(USER, PASSWORD),
            timeout=10,
        )
        assert response.status_code == 200, flower.log()
        task = response.json().get(task_id)
        return task if task and task.get("state") == "SUCCESS" else None

    # Flower's event receiver connects shortly after /healthcheck answers; events sent before it is
    # connected are lost, so a task Flower never saw is enqueued once more.
    task = None
    for _attempt in range(3):
        result = update_user_favorite_cache.delay(user_id, force=True)
        assert result.get(timeout=60)["outcome"] == "rebuilt"
        deadline = time.monotonic() + 10
        while task is None and time.monotonic() < deadline:
            task = listed(result.id)
            if task is None:
                time.sleep(0.2)
        if task is not None:
            break
    assert task is not None, f"Flower never listed the rebuild: {flower.log()}"
    assert task["name"] == "tasks.update_user_favorite_cache"
    assert user_id in task["args"]
    assert "rebuilt" in task["result"]
