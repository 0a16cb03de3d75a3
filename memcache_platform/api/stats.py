"""``GET /v1/stats/favorites``: the most common favourites across users (L3's materialized view)."""

from flask import Blueprint, Response, jsonify

from memcache_platform.api.auth import require_unrestricted
from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import GlobalFavorites, StatsQuery

bp = Blueprint("stats", __name__, url_prefix="/v1/stats")
bp.before_request(require_unrestricted)  # aggregates across tenants


@bp.get("/favorites")
@operation(
    "Most common favourites across users per topic (L3 materialized view)",
    {200: Answer(GlobalFavorites, "top favourites")},
    errors=(400, 401, 403, 503),
    query=StatsQuery,
)
def favorites(query: StatsQuery) -> Response:
    """Top favourites per topic, as of the view's last refresh (by the sweep)."""
    topics, refreshed_at = platform().favorites.global_favorites(topic=query.topic, limit=query.limit)
    return jsonify({"topics": topics, "refreshed_at": refreshed_at.isoformat() if refreshed_at else None})
