"""``GET /v1/users/{user_id}/cache``: the user's tier status."""

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import CacheStatus, UserPath

bp = Blueprint("cache", __name__, url_prefix="/v1/users/<user_id>")
bp.before_request(authenticate)


@bp.get("/cache")
@operation(
    "Tier status: watermark, builds, generation, lag, hot queries, entries",
    {200: Answer(CacheStatus, "the status")},
    errors=(400, 401, 403),
    path=UserPath,
)
def cache_status(path: UserPath) -> Response:
    """Watermark, builds, generation, lag, hot queries and entries per tier."""
    return jsonify(platform().cache_status.status(path.user_id))
