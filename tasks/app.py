"""The worker's side of the Celery application: the platform's app, plus the worker's signal handlers."""

from celery.signals import after_setup_logger, after_setup_task_logger, worker_init, worker_process_init

from memcache_platform.celery_app import app

__all__ = ["app"]


@worker_init.connect
def _import_heavy_modules(**_: object) -> None:
    """Import Mem0 and torch in the parent once, so each child only builds (not imports) them.

    Imports only: an embedding computed before the fork would hang the children (libgomp).
    """
    from memcache_platform.clients.mem0 import configure_offline_environment
    from memcache_platform.wiring import get_platform

    configure_offline_environment(get_platform().settings.mem0_dir)
    import mem0  # noqa: F401
    import sentence_transformers  # noqa: F401


@worker_process_init.connect
def _build_mem0(**_: object) -> None:
    """Build Mem0 in each child after the fork, before the first task arrives."""
    from memcache_platform.wiring import get_platform

    get_platform().mem0  # noqa: B018 - builds it


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_logs(logger, **_: object) -> None:  # type: ignore[no-untyped-def]
    """Keep passwords in URLs out of worker and beat logs."""
    from config.logging import install_redaction

    install_redaction(logger)
