"""``GET /v1/users/{user_id}/favorites``: L3, falling back to L4, with ``tier`` and ``stale``."""

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import Favorites, UserPath

bp = Blueprint("favorites", __name__, url_prefix="/v1/users/<user_id>")
bp.before_request(authenticate)


@bp.get("/favorites")
@operation(
    "Favourites summary: L3 when current, else L4",
    {200: Answer(Favorites, "the summary", headers={"X-Cache-Tier": "the tier that answered: L3 or L4"})},
    errors=(400, 401, 403, 502, 503),
    path=UserPath,
)
def favorites(path: UserPath) -> Response:
    """The user's favourites summary."""
    answer = platform().favorites.get(path.user_id)
    response = jsonify(answer.to_dict())
    response.headers["X-Cache-Tier"] = answer.tier
    return response
