"""``GET /v1/users/{user_id}/search``: L2, else L1 + L4; ``tier`` in the body and ``X-Cache-Tier``."""

from typing import Any

from flask import Blueprint, Response, current_app

from memcache_platform.api.auth import authenticate
from memcache_platform.api.context import platform
from memcache_platform.api.contract import Answer, operation
from memcache_platform.api.models import SearchAnswer, UserPath, search_query
from memcache_platform.api.ratelimit import search_limits
from memcache_platform.api.validation import ensure_storable

bp = Blueprint("search", __name__, url_prefix="/v1/users/<user_id>")
bp.before_request(authenticate)


@bp.get("/search")
@search_limits()
@operation(
    "Semantic search: L2 when current, else L1 + L4 (and L2 is filled)",
    {200: Answer(SearchAnswer, "results", headers={"X-Cache-Tier": "the tier that answered: L2 or L4"})},
    errors=(400, 401, 403, 429, 502, 503),
    path=UserPath,
    query=search_query,
)
def search(path: UserPath, query: Any) -> Response:
    """Semantic search over the user's memories."""
    text = ensure_storable(query.q, "query")  # lone surrogates: no JSON Schema keyword says so
    answer = platform().search.search(path.user_id, text, limit=query.limit, session_id=query.session_id)
    head = {
        "user_id": path.user_id,
        "query": text,
        "tier": answer.tier,
        "watermark": answer.watermark,
        "generation": answer.generation,
        "degraded": answer.degraded,
        "stale": answer.stale,
        "pending": answer.pending,
    }
    # The results go in as JSON text (an L2 hit's straight from Redis), after the other fields.
    body = current_app.json.dumps(head).encode()[:-1] + b',"results":' + answer.hits.json + b"}"
    return Response(body, mimetype="application/json", headers={"X-Cache-Tier": answer.tier})
