"""The ``memcache`` command's HTTP client: which platform to call, and its answers or errors.

Data commands never open Redis, PostgreSQL, Celery or Mem0 themselves: they call the running
platform's API, so they answer in the time the API does and cannot write into a server they merely
defaulted to. The platform is found in this order:

- URL: ``MEMCACHE_API_URL``, else ``http://`` + ``MEMCACHE_BIND`` (what gunicorn binds), else
  ``http://127.0.0.1:8000`` (``make run``'s address).
- Key: ``MEMCACHE_API_KEY``, else the first admin key, else the first unrestricted key of the
  platform's own settings (``MEMCACHE_ADMIN_API_KEYS``, ``MEMCACHE_API_KEYS``; also read from
  ``var/embedded.env`` while ``make run`` is up), else ``var/dev-api-key``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from memcache_platform.errors import PlatformError

DEFAULT_BIND = "127.0.0.1:8000"
# Loopback or a LAN answers a connect in milliseconds; a longer wait only delays the clear error.
CONNECT_TIMEOUT_S = 2.0
# Above the platform's default Mem0 timeout (10 s): a slow write answers 503 before this fires.
READ_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Target:
    """The platform a command talks to, and where its URL and key came from."""

    url: str
    key: str
    url_source: str
    key_source: str

    def describe(self) -> str:
        """``using URL (URL source; key from …)``, the line each data command prints on stderr."""
        return f"using {self.url} ({self.url_source}; key from {self.key_source})"


def _bind_url(bind: str) -> str:
    """gunicorn's bind address as a URL a client can call (``0.0.0.0`` listens on loopback too)."""
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _first_key(entries: list[str], *, unrestricted: bool) -> str | None:
    """The first key of a ``MEMCACHE_*_API_KEYS`` list; ``KEY=scope`` entries only if allowed."""
    for entry in entries:
        key, sep, _scope = entry.partition("=")
        if key and not (unrestricted and sep):
            return key
    return None


def resolve_target() -> Target:
    """URL and key of the platform to call; ``no_api_key`` when no key can be found anywhere."""
    from config import settings as settings_module

    settings = settings_module.get_settings()
    if settings.api_url:
        url, url_source = settings.api_url.rstrip("/"), "MEMCACHE_API_URL"
        if url_source not in os.environ:
            url_source += " in .env or var/embedded.env"
    elif os.environ.get("MEMCACHE_BIND"):
        url, url_source = _bind_url(os.environ["MEMCACHE_BIND"]), "MEMCACHE_BIND"
    else:
        url, url_source = _bind_url(DEFAULT_BIND), "default address of make run"
    dev_key_file = settings_module.VAR_DIR / "dev-api-key"
    dev_key = dev_key_file.read_text().strip() if dev_key_file.is_file() else None
    candidates = (
        (settings.api_key, "MEMCACHE_API_KEY"),
        (_first_key(settings.admin_api_keys, unrestricted=False), "MEMCACHE_ADMIN_API_KEYS"),
        (_first_key(settings.api_keys, unrestricted=True), "MEMCACHE_API_KEYS"),
        (dev_key, "var/dev-api-key"),
    )
    for key, source in candidates:
        if key:
            if key == dev_key:  # make run's generated key, also listed in its var/embedded.env
                source = "var/dev-api-key"
            elif source not in os.environ:
                source += " in .env or var/embedded.env"
            return Target(url, key, url_source, source)
    raise PlatformError(
        "no API key found: set MEMCACHE_API_KEY, or start the platform with `make run` "
        f"(it keeps a development key in {dev_key_file})",
        code="no_api_key",
    )


class ApiClient:
    """Calls one platform's HTTP API; every failure becomes a ``PlatformError`` with a clear code."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {target.key}", "Accept": "application/json"})

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Any:
        """The JSON body of a 2xx answer; ``deadline`` (monotonic) caps the wait for it."""
        read_timeout = READ_TIMEOUT_S
        if deadline is not None:
            read_timeout = min(read_timeout, max(deadline - time.monotonic(), 0.05))
        url = self.target.url + path
        try:
            response = self.session.request(
                method, url, params=params, json=body, timeout=(CONNECT_TIMEOUT_S, read_timeout)
            )
        except requests.ConnectionError:  # refused, reset, no route, or ConnectTimeout
            raise self.unreachable() from None
        except requests.Timeout:  # connected, but no answer in time
            raise self.timed_out(read_timeout) from None
        except requests.RequestException as exc:
            raise PlatformError(f"request to {url} failed: {exc}", code="platform_unreachable") from None
        return self._answer(response)

    def unreachable(self) -> PlatformError:
        """Nothing listens at the URL (or it does not accept in time)."""
        return PlatformError(
            f"no platform answers at {self.target.url} — start it with `make run` or set MEMCACHE_API_URL",
            code="platform_unreachable",
        )

    def timed_out(self, seconds: float) -> PlatformError:
        """The platform accepted the connection but did not answer in time."""
        return PlatformError(
            f"the platform at {self.target.url} did not answer within {seconds:g} s", code="platform_timeout"
        )

    def _answer(self, response: requests.Response) -> Any:
        """A 2xx body, or the platform's ``{"error": {"code", "message"}}`` raised."""
        if response.status_code == 204:
            return None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.ok and data is not None:
            return data
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and "code" in error and "message" in error:
            raise PlatformError(str(error["message"]), code=str(error["code"]), details=error.get("details"))
        raise PlatformError(
            f"{self.target.url} answered HTTP {response.status_code} without the platform's JSON: "
            "is MEMCACHE_API_URL the memcache platform?",
            code="not_a_platform",
        )


def user_path(user_id: str, rest: str = "") -> str:
    """``/v1/users/<user_id><rest>`` with the id quoted (it is validated already; this is belt and braces)."""
    return f"/v1/users/{quote(user_id, safe='')}{rest}"
