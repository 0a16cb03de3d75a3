"""API-key auth: ``Authorization: Bearer <key>``, compared in constant time, never logged."""

from __future__ import annotations

from flask import g, request

from memcache_platform.api.context import settings
from memcache_platform.api.keys import find_key, parse_keys
from memcache_platform.errors import PlatformError
from memcache_platform.ids import validate_user_id


class Unauthorized(PlatformError):
    code = "unauthorized"
    status = 401


class Forbidden(PlatformError):
    code = "forbidden"
    status = 403


def authenticate() -> None:
    """``before_request`` of data blueprints: a known key, and one allowed to reach the path's user."""
    scheme, _, candidate = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not candidate.strip():
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    conf = settings()
    key = find_key(candidate.strip(), parse_keys(tuple(conf.api_keys), tuple(conf.admin_api_keys)))
    if key is None:
        raise Unauthorized("invalid API key")
    g.api_key = key
    g.is_admin = key.admin
    user_id = (request.view_args or {}).get("user_id")
    if user_id is not None and not key.allows(validate_user_id(user_id)):
        raise Forbidden(f"this API key may not access user {user_id!r}")


def require_unrestricted() -> None:
    """``before_request`` of routes that see across users: keys limited to a tenant may not."""
    authenticate()
    if g.api_key.restricted:
        raise Forbidden("this route needs an API key that is not limited to some users")


def require_admin() -> None:
    """``before_request`` of admin blueprints."""
    authenticate()
    if not g.is_admin:
        raise Forbidden("this route needs an admin API key")
