"""``GET /v1/stats/favorites``: the most common favourites across users (L3's materialized view)."""

from flask import Blueprint, Response, jsonify, request

from memcache_platform.api.auth import require_unrestricted
from memcache_platform.api.context import platform
from memcache_platform.errors import InvalidInput

bp = Blueprint("stats", __name__, url_prefix="/v1/stats")
bp.before_request(require_unrestricted)  # aggregates across tenants


@bp.get("/favorites")
def favorites() -> Response:
    """Top favourites per topic, as of the view's last refresh (by the sweep)."""
    topic = request.args.get("topic")
    if topic is not None and (not 0 < len(topic) <= 128 or "\x00" in topic):
        raise InvalidInput("topic must be 1-128 characters", code="invalid_topic")
    raw_limit = request.args.get("limit", "10")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise InvalidInput("limit must be an integer from 1 to 100", code="invalid_limit")
    topics, refreshed_at = platform().favorites.global_favorites(topic=topic, limit=int(raw_limit))
    return jsonify({"topics": topics, "refreshed_at": refreshed_at.isoformat() if refreshed_at else None})
