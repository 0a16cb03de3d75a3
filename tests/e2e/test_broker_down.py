"""The write path answers 201 when the broker is unreachable: the L4 write stands, the hand-off fails.

Runs the real web process (gunicorn) with MEMCACHE_BROKER_URL pointing at a closed port.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from memcache_platform.dev.servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def web_with_dead_broker(platform, tmp_path_factory):
    port, closed = free_port(), free_port()
    env = os.environ | {
        "MEMCACHE_BROKER_URL": f"redis://127.0.0.1:{closed}/1",
        "MEMCACHE_BIND": f"127.0.0.1:{port}",
        "MEMCACHE_WEB_WORKERS": "1",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log_path = tmp_path_factory.mktemp("web") / "gunicorn.log"
    log = log_path.open("wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "--config",
            "python:memcache_platform.dev.gunicorn_conf",
            "memcache_platform.api:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: an unread pipe would fill and stall the server
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"web process exited: {log_path.read_text()[-2000:]}")
            assert time.monotonic() < deadline, "web process did not become ready"
            try:
                if requests.get(f"{base}/readyz", timeout=2).json()["checks"]["mem0"]["ok"]:
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.5)
        yield base
    finally:  # never leave a server behind, whatever failed
        proc.terminate()
        proc.wait(30)
        log.close()


def test_write_succeeds_and_reports_failed_handoff(web_with_dead_broker, platform, user_id, auth):
    headers = auth
    response = requests.post(
        f"{web_with_dead_broker}/v1/users/{user_id}/memories",
        json={"messages": [{"role": "user", "content": "My favourite colour is teal"}]},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.json()["cache"]["handoff"] == "outbox"  # kept for retry in the API process
    # The write stands in L4 although nothing was enqueued.
    stored = platform.mem0.get_all(user_id=user_id)
    assert [r.memory for r in stored] == ["Favourite colour is teal"]
    readiness = requests.get(f"{web_with_dead_broker}/readyz", timeout=10).json()
    assert readiness["checks"]["broker"]["ok"] is False
    assert readiness["status"] == "degraded"
