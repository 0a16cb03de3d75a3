"""Access to the platform object of the running app."""

from flask import current_app

from config.settings import Settings
from memcache_platform.wiring import Platform


def platform() -> Platform:
    """The ``Platform`` this app was created with."""
    return current_app.extensions["memcache"]


def settings() -> Settings:
    """The settings of this app."""
    return platform().settings
