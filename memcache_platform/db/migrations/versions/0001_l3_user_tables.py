"""L3 per-user tables: facts, favourites summary, cache state.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_memory_facts",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("memory_id", sa.String(64), primary_key=True),
        sa.Column("memory", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(128)),
        sa.Column("value", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_user_memory_facts_user_category", "user_memory_facts", ["user_id", "category"])
    op.create_table(
        "user_favorite_summary",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("favorites", JSONB(), nullable=False),
        sa.Column("dislikes", JSONB(), nullable=False),
        sa.Column("top_skills", JSONB(), nullable=False),
        sa.Column("profile", JSONB(), nullable=False),
        sa.Column("counts", JSONB(), nullable=False),
        sa.Column("memory_count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "user_cache_state",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_from_watermark", sa.BigInteger()),
        sa.Column("source_memory_count", sa.Integer(), nullable=False),
        sa.Column("source_fingerprint", sa.String(64), nullable=False),
        sa.Column("build_ms", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_cache_state")
    op.drop_table("user_favorite_summary")
    op.drop_index("ix_user_memory_facts_user_category", table_name="user_memory_facts")
    op.drop_table("user_memory_facts")
