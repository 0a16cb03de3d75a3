"""``GET /v1/users/{user_id}/search``: L2, else L1 + L4; ``tier`` in the body and ``X-Cache-Tier``."""

from flask import Blueprint, Response, jsonify, request

from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform, settings
from memcache_platform.api.ratelimit import search_limits
from memcache_platform.api.validation import ensure_storable, parse_count
from memcache_platform.errors import InvalidInput
from memcache_platform.ids import validate_session_id, validate_user_id

bp = Blueprint("search", __name__, url_prefix="/v1/users/<user_id>")
bp.before_request(authenticate)


@bp.get("/search")
@search_limits()
def search(user_id: str) -> Response:
    """Semantic search over the user's memories."""
    user_id = validate_user_id(user_id)
    conf = settings()
    query = request.args.get("q", "")
    if not query.strip() or len(query) > conf.query_max_chars:
        raise InvalidInput(f"q must be 1 to {conf.query_max_chars} characters", code="invalid_query")
    ensure_storable(query, "query")
    limit = parse_count(request.args.get("limit"), "limit", default=10, maximum=conf.search_max_limit)
    session = request.args.get("session_id")
    session_id = validate_session_id(session) if session is not None else None
    answer = platform().search.search(user_id, query, limit=limit, session_id=session_id)
    response = jsonify(
        {
            "user_id": user_id,
            "query": query,
            "results": answer.results,
            "tier": answer.tier,
            "watermark": answer.watermark,
            "generation": answer.generation,
            "degraded": answer.degraded,
            "stale": answer.stale,
        }
    )
    response.headers["X-Cache-Tier"] = answer.tier
    return response
