"""``GET /v1/users/{user_id}/favorites``: L3, falling back to L4, with ``tier`` and ``stale``."""

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform
from memcache_platform.ids import validate_user_id

bp = Blueprint("favorites", __name__, url_prefix="/v1/users/<user_id>")
bp.before_request(authenticate)


@bp.get("/favorites")
def favorites(user_id: str) -> Response:
    """The user's favourites summary."""
    answer = platform().favorites.get(validate_user_id(user_id))
    response = jsonify(answer.to_dict())
    response.headers["X-Cache-Tier"] = answer.tier
    return response
