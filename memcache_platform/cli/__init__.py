"""The ``memcache`` command: data commands are clients of the running platform's HTTP API.

``add``, ``search``, ``status``, ``warm``, ``warm-all`` and ``users`` call the platform that
``cli.client`` finds and name it on stderr; they never open Redis, PostgreSQL, Celery or Mem0 (only
``dev`` and ``db`` do). With ``--json`` stdout is one JSON document; any ``PlatformError`` (the API's
error, or no platform there) ends with ``Error: <message> (<code>)`` and exit status 1.
"""

from memcache_platform.cli import data, importing, servers, warming  # noqa: F401 (they add the commands)
from memcache_platform.cli.app import main

__all__ = ["main"]
