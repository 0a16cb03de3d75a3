"""Manual triggers (warm one user, warm everyone, follow a task) and erasing a user (admin)."""

import uuid

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import authenticate, require_admin, require_unrestricted
from memcache_platform.api.context import platform
from memcache_platform.api.ratelimit import bulk_limit
from memcache_platform.errors import InvalidInput
from memcache_platform.ids import validate_user_id

bp = Blueprint("warming", __name__, url_prefix="/v1")
tasks_bp = Blueprint("tasks", __name__, url_prefix="/v1")
admin = Blueprint("warming_admin", __name__, url_prefix="/v1")
bp.before_request(authenticate)
tasks_bp.before_request(require_unrestricted)  # task results name users: not for tenant keys
admin.before_request(require_admin)


@bp.post("/users/<user_id>/cache/warm")
@bulk_limit
def warm_user(user_id: str) -> tuple[Response, int]:
    """Enqueue a rebuild of one user (even if current); 202 with the task id."""
    task_id = platform().warming.warm_user(validate_user_id(user_id))
    return jsonify({"task_id": task_id, "status_url": f"/v1/tasks/{task_id}"}), 202


@admin.delete("/users/<user_id>")
@bulk_limit
def erase_user(user_id: str) -> Response:
    """Erase a user from L4, L3, L2, the registry and the hot-query log (admin key)."""
    return jsonify({"user_id": user_id, "erased": platform().erasure.erase(validate_user_id(user_id))})


@admin.post("/cache/warm-all")
@bulk_limit
def warm_all() -> tuple[Response, int]:
    """Enqueue ``run_proactive_caching_job`` now (admin key); 202 with the task (and sweep) id."""
    task_id = platform().warming.warm_all()
    return jsonify({"task_id": task_id, "status_url": f"/v1/tasks/{task_id}"}), 202


@tasks_bp.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    """State, result or progress of a task."""
    try:
        task_id = str(uuid.UUID(task_id))
    except ValueError:
        raise InvalidInput("task_id must be a UUID", code="invalid_task_id") from None
    return jsonify(platform().warming.task(task_id))
