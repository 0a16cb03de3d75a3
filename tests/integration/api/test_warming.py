"""Manual triggers over HTTP: warm one user, warm everyone (admin), follow the task."""

import time

import pytest

from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.integration


def _wait_state(client, auth, task_id: str, done=lambda b: b["state"] in ("SUCCESS", "FAILURE")) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(f"/v1/tasks/{task_id}", headers=auth).json
        if done(body):
            return body
        time.sleep(0.1)
    pytest.fail(f"task {task_id} did not finish")


def test_warm_user_rebuilds_even_when_current(client, auth, user_id, write, platform, celery_worker):
    write(user_id, "I love tea")
    platform.proactive_cache.update_user_favorite_cache(user_id)
    response = client.post(f"/v1/users/{user_id}/cache/warm", headers=auth)
    assert response.status_code == 202
    task_id = response.json["task_id"]
    assert response.json["status_url"] == f"/v1/tasks/{task_id}"
    body = _wait_state(client, auth, task_id)
    assert body["state"] == "SUCCESS"
    assert body["name"] == "tasks.update_user_favorite_cache"
    assert (body["result"]["user_id"], body["result"]["outcome"]) == (user_id, "rebuilt")


def test_warm_all_needs_an_admin_key(client, auth):
    response = client.post("/v1/cache/warm-all", headers=auth)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert client.post("/v1/cache/warm-all").status_code == 401


def test_warm_all_reports_sweep_progress(client, celery_worker, no_sweep_running):
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    response = client.post("/v1/cache/warm-all", headers=admin)
    assert response.status_code == 202
    body = _wait_state(
        client, admin, response.json["task_id"], done=lambda b: "finished_at" in b.get("progress", {})
    )
    assert body["name"] == "tasks.run_proactive_caching_job"
    progress = body["progress"]
    assert progress["total"] == progress["dirty"] + progress["aged"] + progress["skipped"]
    assert progress["done"] + progress["failed"] == progress["dirty"] + progress["aged"]


@pytest.mark.parametrize("task_id", ["nope", "1234", "00000000-0000-4000-8000-00000000000g"])
def test_a_task_id_that_is_not_a_uuid_is_refused(client, auth, task_id):
    response = client.get(f"/v1/tasks/{task_id}", headers=auth)
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_task_id")


def test_a_task_path_with_slashes_is_not_a_route(client, auth):
    response = client.get("/v1/tasks/../../etc", headers=auth)
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


def test_unknown_task_is_pending(client, auth):
    body = client.get("/v1/tasks/00000000-0000-4000-8000-000000000000", headers=auth).json
    assert body["state"] == "PENDING"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "topic="])
def test_bad_stats_parameters(client, auth, query):
    response = client.get(f"/v1/stats/favorites?{query}", headers=auth)
    assert response.status_code == 400
