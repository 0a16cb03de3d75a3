"""The write path answers 201 when the broker is unreachable: the L4 write stands, the hand-off fails.

Runs the real web process (gunicorn) with MEMCACHE_BROKER_URL pointing at a closed port.
"""

import pytest
import requests

from memcache_platform.dev.servers import free_port
from tests.support.web import start_gunicorn, stop, wait_until_mem0_ready

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def web_with_dead_broker(platform, tmp_path_factory):
    port, closed = free_port(), free_port()
    log_path = tmp_path_factory.mktemp("web") / "gunicorn.log"
    env = {"MEMCACHE_BROKER_URL": f"redis://127.0.0.1:{closed}/1", "MEMCACHE_BIND": f"127.0.0.1:{port}"}
    proc = start_gunicorn(env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_mem0_ready(proc, base, log_path)
        yield base
    finally:  # never leave a server behind, whatever failed
        stop(proc)


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
