"""Local operation: these commands touch servers directly (embedded servers, L3 migrations)."""

from __future__ import annotations

import sys

import click

from memcache_platform.cli.app import main


@main.group()
def dev() -> None:
    """Run the platform locally on embedded servers."""


@dev.command("run")
def dev_run() -> None:
    """Start Redis and PostgreSQL under ./var/ (unless URLs are set), migrate, run the Procfile.

    \b
    Examples:
      memcache dev run                      # what `make run` does
    """
    from memcache_platform.dev.run import run_platform

    sys.exit(run_platform())


@main.group()
def db() -> None:
    """L3 database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply L3's Alembic migrations to MEMCACHE_DATABASE_URL (printed first, password masked).

    \b
    Examples:
      memcache db upgrade
    """
    import os

    from config.logging import redact
    from config.settings import Settings, get_settings
    from memcache_platform.db.migrate import upgrade

    settings = get_settings()
    if "MEMCACHE_DATABASE_URL" in os.environ:
        source = "MEMCACHE_DATABASE_URL"
    elif settings.database_url == Settings.model_fields["database_url"].default:
        source = "the default: MEMCACHE_DATABASE_URL is not set"
    else:
        source = "MEMCACHE_DATABASE_URL from .env or var/embedded.env"
    click.echo(f"using {redact(settings.database_url)} ({source})", err=True)
    upgrade(settings.sqlalchemy_url, revision)
    click.echo(f"L3 schema at {revision}")
