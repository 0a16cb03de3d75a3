"""L3's PostgreSQL schema (SQLAlchemy models) and its Alembic migrations."""
