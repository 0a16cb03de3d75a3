"""The ``memcache`` command."""

from __future__ import annotations

import sys

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """memcache_platform: cache tiers in front of Mem0."""


@main.group()
def dev() -> None:
    """Run the platform locally on embedded servers."""


@dev.command("run")
def dev_run() -> None:
    """Start Redis and PostgreSQL under ./var/ (unless URLs are set), migrate, run the Procfile."""
    from memcache_platform.dev.run import run_platform

    sys.exit(run_platform())


@main.group()
def db() -> None:
    """L3 database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply L3's Alembic migrations to MEMCACHE_DATABASE_URL."""
    from config.settings import get_settings
    from memcache_platform.db.migrate import upgrade

    upgrade(get_settings().sqlalchemy_url, revision)
    click.echo(f"L3 schema at {revision}")


if __name__ == "__main__":
    main()
