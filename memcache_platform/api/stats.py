"""``GET /v1/stats/favorites``: the most common favourites across users (L3's materialized view)."""

from flask import Blueprint, Response, jsonify, request

from memcache_platform.api.auth import require_unrestricted
from memcache_platform.api.context import platform
from memcache_platform.api.validation import parse_count
from memcache_platform.errors import InvalidInput

bp = Blueprint("stats", __name__, url_prefix="/v1/stats")
bp.before_request(require_unrestricted)  # aggregates across tenants


@bp.get("/favorites")
def favorites() -> Response:
    """Top favourites per topic, as of the view's last refresh (by the sweep)."""
    topic = request.args.get("topic")
    if topic is not None and (not 0 < len(topic) <= 128 or "\x00" in topic):
        raise InvalidInput("topic must be 1-128 characters", code="invalid_topic")
    limit = parse_count(request.args.get("limit"), "limit", default=10, maximum=100)
    topics, refreshed_at = platform().favorites.global_favorites(topic=topic, limit=limit)
    return jsonify({"topics": topics, "refreshed_at": refreshed_at.isoformat() if refreshed_at else None})
