"""The one Celery application of a process, configured from ``config.celeryconfig``.

Producers (``clients/task_queue.py``) and the worker (``tasks/app.py`` adds its signals and the
tasks) share it: one broker pool and one "current app" per process, whichever side runs there.
"""

from __future__ import annotations

from celery import Celery


def make_celery() -> Celery:
    """A Celery app; the config is read lazily, on first use, so settings set before that apply."""
    celery = Celery("memcache_platform")
    celery.config_from_object("config.celeryconfig")
    return celery


app = make_celery()
