"""Every error as ``{"error": {"code", "message"}}``: bad input, HTTP errors and our own; never a trace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from memcache_platform.errors import PlatformError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, **top: Any
) -> Response:
    """The JSON error shape of shared/DESIGN.md (``top``: extra top-level fields some clients read)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify({"error": body, **top})
    response.status_code = status
    return response


def register(target: Flask | Blueprint, render: Callable[..., Response] = error_response) -> None:
    """Install the handlers on an app or a blueprint; ``render`` builds the error body."""

    @target.errorhandler(PlatformError)
    def _platform_error(exc: PlatformError) -> Response:
        if exc.status >= 500:
            log.warning("%s: %s", exc.code, exc.message)
        return render(exc.status, exc.code, exc.message, exc.details)

    @target.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = render(status, HTTP_CODES.get(status, "http_error"), exc.description or exc.name)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @target.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return render(500, "internal_error", "internal error; the server log has the details")
