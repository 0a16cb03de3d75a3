"""Manual triggers (warm one user, warm everyone, follow a task) and erasing a user (admin)."""

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import authenticate, require_admin, require_unrestricted
from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import Erased, TaskPath, TaskRef, TaskState, UserPath
from memcache_platform.api.ratelimit import bulk_limit

bp = Blueprint("warming", __name__, url_prefix="/v1")
tasks_bp = Blueprint("tasks", __name__, url_prefix="/v1")
admin = Blueprint("warming_admin", __name__, url_prefix="/v1")
bp.before_request(authenticate)
tasks_bp.before_request(require_unrestricted)  # task results name users: not for tenant keys
admin.before_request(require_admin)


@bp.post("/users/<user_id>/cache/warm")
@bulk_limit
@operation(
    "Enqueue a rebuild of the user's tiers (even if current)",
    {202: Answer(TaskRef, "enqueued")},
    errors=(400, 401, 403, 429, 503),
    path=UserPath,
)
def warm_user(path: UserPath) -> tuple[Response, int]:
    """Enqueue a rebuild of one user (even if current); 202 with the task id."""
    task_id = platform().warming.warm_user(path.user_id)
    return jsonify({"task_id": task_id, "status_url": f"/v1/tasks/{task_id}"}), 202


@admin.delete("/users/<user_id>")
@bulk_limit
@operation(
    "Erase a user from L4, L3, L2, the registry and the hot-query log (admin key)",
    {200: Answer(Erased, "erased")},
    errors=(400, 401, 403, 429, 502, 503),
    path=UserPath,
    tags=("admin",),
)
def erase_user(path: UserPath) -> Response:
    """Erase a user from L4, L3, L2, the registry and the hot-query log (admin key)."""
    return jsonify({"user_id": path.user_id, "erased": platform().erasure.erase(path.user_id)})


@admin.post("/cache/warm-all")
@bulk_limit
@operation(
    "Enqueue run_proactive_caching_job now (admin key)",
    {202: Answer(TaskRef, "enqueued")},
    errors=(401, 403, 429, 503),
    tags=("admin",),
)
def warm_all() -> tuple[Response, int]:
    """Enqueue ``run_proactive_caching_job`` now (admin key); 202 with the task (and sweep) id."""
    task_id = platform().warming.warm_all()
    return jsonify({"task_id": task_id, "status_url": f"/v1/tasks/{task_id}"}), 202


@tasks_bp.get("/tasks/<task_id>")
@operation(
    "State, result or progress of a task (sweeps: done, total, skipped, failed)",
    {200: Answer(TaskState, "the task")},
    errors=(400, 401, 403, 503),
    path=TaskPath,
)
def task(path: TaskPath) -> Response:
    """State, result or progress of a task."""
    return jsonify(platform().warming.task(path.task_id))
