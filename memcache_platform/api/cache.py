"""``GET /v1/users/{user_id}/cache``: the user's tier status."""

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform
from memcache_platform.ids import validate_user_id

bp = Blueprint("cache", __name__, url_prefix="/v1/users/<user_id>")
bp.before_request(authenticate)


@bp.get("/cache")
def cache_status(user_id: str) -> Response:
    """Watermark, builds, generation, lag, hot queries and entries per tier."""
    return jsonify(platform().cache_status.status(validate_user_id(user_id)))
