"""Run L3's Alembic migrations from code (``memcache db upgrade``, ``make run``, the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(sqlalchemy_url: str) -> Config:
    """An Alembic config for the packaged migrations, pointed at ``sqlalchemy_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade(sqlalchemy_url: str, revision: str = "head") -> None:
    """Bring the L3 schema up to ``revision``."""
    command.upgrade(alembic_config(sqlalchemy_url), revision)
