"""API-key auth: ``Authorization: Bearer <key>``, compared in constant time, never logged."""

from __future__ import annotations

import hmac

from flask import g, request

from memcache_platform.api.context import settings
from memcache_platform.errors import PlatformError


class Unauthorized(PlatformError):
    code = "unauthorized"
    status = 401


class Forbidden(PlatformError):
    code = "forbidden"
    status = 403


def _matches(candidate: str, keys: list[str]) -> bool:
    # Compare against every key, so the time taken does not tell which prefix matched.
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate.encode(), key.encode())
    return found


def authenticate() -> None:
    """``before_request`` of data blueprints: any configured key passes."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    key = key.strip()
    conf = settings()
    g.is_admin = _matches(key, conf.admin_api_keys)
    if not (g.is_admin or _matches(key, conf.api_keys)):
        raise Unauthorized("invalid API key")


def require_admin() -> None:
    """``before_request`` of admin blueprints."""
    authenticate()
    if not g.is_admin:
        raise Forbidden("this route needs an admin API key")
