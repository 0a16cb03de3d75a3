"""The HTTP API: ``create_app`` builds the Flask app, one blueprint per resource."""

from __future__ import annotations

import logging

from flask import Flask

from config.logging import configure_logging, install_redaction
from config.settings import Settings, get_settings
from memcache_platform.wiring import Platform, get_platform


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """Create the Flask app for ``settings`` (default: the environment's)."""
    from memcache_platform.api import (
        cache,
        errors,
        favorites,
        health,
        mem0_compat,
        memories,
        memory_batch,
        metrics,
        openapi,
        ratelimit,
        search,
        stats,
        warming,
    )

    settings = settings or get_settings()
    if platform is None:
        platform = get_platform() if settings is get_settings() else Platform(settings)
    configure_logging(settings.log_level)
    app = Flask(__name__)
    install_redaction(app.logger)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, JSON_SORT_KEYS=False)
    app.json.sort_keys = False
    app.extensions["memcache"] = platform
    if not (settings.api_keys or settings.admin_api_keys):
        logging.getLogger(__name__).warning("no API keys configured: every data route answers 401")
    errors.register(app)
    ratelimit.init_app(app, settings)
    for module in (
        health,
        memories,
        memory_batch,
        search,
        favorites,
        cache,
        warming,
        stats,
        openapi,
        metrics,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(warming.admin)
    app.register_blueprint(warming.tasks_bp)
    app.register_blueprint(mem0_compat.bp)  # Mem0's platform REST API, for mem0.MemoryClient
    return app
