"""Fixtures of the API tests: an app over the session's platform with settings of the test's own."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from config.settings import Settings


class _Configured:
    """The session's platform seen through other settings: same services, this test's limits and keys."""

    def __init__(self, platform: Any, settings: Settings) -> None:
        self._platform = platform
        self.settings = settings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)


@pytest.fixture
def limited(platform):  # type: ignore[no-untyped-def]
    """``limited(**budgets)``: an app, its data key and its admin key; the shipped budgets but ``budgets``."""
    from memcache_platform.api import create_app

    def _build(**budgets: str):  # type: ignore[no-untyped-def]
        fields = Settings.model_fields.items()
        defaults = {name: f.default for name, f in fields if name.startswith("rate_limit_")}
        key, admin = f"rate-{uuid.uuid4().hex}", f"rate-admin-{uuid.uuid4().hex}"
        settings = platform.settings.model_copy(
            update=defaults | budgets | {"api_keys": [key], "admin_api_keys": [admin]}
        )
        app = create_app(settings, _Configured(platform, settings))
        return app, {"Authorization": f"Bearer {key}"}, {"Authorization": f"Bearer {admin}"}

    return _build
