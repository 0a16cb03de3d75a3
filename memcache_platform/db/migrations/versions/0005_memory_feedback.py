"""Feedback on memories (Mem0's ``POST /v1/feedback/``): one row per feedback, by memory and owner.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memory_feedback",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("memory_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("feedback", sa.String(16), nullable=True),
        sa.Column("feedback_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memory_feedback_user", "memory_feedback", ["user_id"])
    op.create_index("ix_memory_feedback_memory", "memory_feedback", ["memory_id"])


def downgrade() -> None:
    op.drop_table("memory_feedback")
