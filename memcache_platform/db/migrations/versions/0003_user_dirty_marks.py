"""Durable dirty marks: users whose hand-off waited in an API process's memory (Redis unreachable).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_dirty_marks",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_dirty_marks")
